FROM rockylinux:9

RUN dnf -y install epel-release && \
    dnf -y install \
        python3 \
        python3-pip \
        nginx \
        supervisor && \
    dnf clean all

RUN dnf install -y --enablerepo=crb \
        gcc \
        python3-devel \
        libffi-devel

COPY requirements.txt /tmp/requirements.txt
RUN pip3 install --no-cache-dir -r /tmp/requirements.txt

COPY supervisord.conf /etc/supervisord.d/app.ini
COPY . /srv/app
EXPOSE 80
CMD ["/usr/bin/supervisord", "-n"]

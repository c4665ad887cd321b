FROM opensuse/leap:15.6

RUN zypper --non-interactive refresh && \
    zypper --non-interactive install --no-recommends \
        python311 \
        python311-pip \
        curl \
        which

RUN zypper -n in -y git-core && zypper clean --all

RUN zypper --non-interactive install -y timezone && \
    rm -rf /var/cache/zypp/*

RUN python3.11 -m pip install --no-cache-dir uvicorn fastapi

COPY app /srv/app
WORKDIR /srv/app
CMD ["python3.11", "-m", "uvicorn", "main:app", "--host", "0.0.0.0"]

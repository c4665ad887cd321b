FROM centos:7
MAINTAINER ops@example.com

RUN yum install -y epel-release && \
    yum install -y \
        httpd \
        mod_ssl \
        php \
        php-mysql \
        php-gd

RUN yum -y update && yum clean all && rm -rf /var/cache/yum

ADD httpd.conf /etc/httpd/conf/httpd.conf
ADD app /var/www/html

EXPOSE 80 443
CMD ["/usr/sbin/httpd", "-D", "FOREGROUND"]

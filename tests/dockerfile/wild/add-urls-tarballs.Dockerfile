FROM debian:12-slim

ENV TINI_VERSION=v0.19.0 \
    JDK_URL=https://download.java.net/java/GA/jdk21.0.2/f2283984656d49e1b5f3ad4b7cd1f41b/13/GPL/openjdk-21.0.2_linux-x64_bin.tar.gz

ADD https://github.com/krallin/tini/releases/download/${TINI_VERSION}/tini /tini
RUN chmod +x /tini

ADD https://archive.apache.org/dist/tomcat/tomcat-9/v9.0.85/bin/apache-tomcat-9.0.85.tar.gz /tmp/
RUN tar -xzf /tmp/apache-tomcat-9.0.85.tar.gz -C /opt \
    && mv /opt/apache-tomcat-9.0.85 /opt/tomcat \
    && rm /tmp/apache-tomcat-9.0.85.tar.gz

ADD vendor/jdk.tar.gz /opt/
ADD conf/server.xml /opt/tomcat/conf/server.xml
ADD --chown=1000:1000 webapps/ /opt/tomcat/webapps/

ENV JAVA_HOME=/opt/jdk-21.0.2 \
    CATALINA_HOME=/opt/tomcat
EXPOSE 8080
ENTRYPOINT ["/tini", "--"]
CMD ["/opt/tomcat/bin/catalina.sh", "run"]

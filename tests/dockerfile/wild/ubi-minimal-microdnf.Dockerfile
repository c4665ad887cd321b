FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4

LABEL name="acme/report-service" \
      vendor="ACME" \
      summary="Report service on UBI minimal"

RUN microdnf install -y --nodocs --setopt=install_weak_deps=0 \
        java-17-openjdk-headless \
        shadow-utils \
        tzdata \
    && microdnf clean all

RUN microdnf update -y

RUN useradd -r -u 1001 -g 0 app
COPY --chown=1001:0 target/report-service.jar /deployments/app.jar
USER 1001
CMD ["java", "-jar", "/deployments/app.jar"]

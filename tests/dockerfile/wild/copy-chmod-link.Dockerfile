# syntax=docker/dockerfile:1.5
FROM python:3.12-slim

ARG APP_USER=app
RUN groupadd --gid 1000 ${APP_USER} \
    && useradd --uid 1000 --gid ${APP_USER} --create-home ${APP_USER}

WORKDIR /srv
COPY --link --chmod=755 docker/entrypoint.sh /usr/local/bin/entrypoint.sh
COPY --link --chown=1000:1000 requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY --link --chown=1000:1000 . .
COPY scripts/healthcheck.sh /usr/local/bin/healthcheck
RUN chmod +x /usr/local/bin/healthcheck

USER ${APP_USER}
HEALTHCHECK --interval=30s CMD ["healthcheck"]
ENTRYPOINT ["entrypoint.sh"]
CMD ["python", "-m", "srv"]

ARG PY=3.11
ARG DEBIAN=bookworm
ARG BASE_IMAGE=python:${PY}-slim-${DEBIAN}
ARG NODE_VERSION

FROM node:${NODE_VERSION} AS assets
WORKDIR /assets
COPY frontend/ .
RUN npm ci && npm run build

FROM python:${PY}-${DEBIAN} AS wheels
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels psycopg2 uwsgi
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM ${BASE_IMAGE}
ARG PY
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=wheels /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/* && rm -rf /wheels
COPY --from=assets /assets/dist /app/static
COPY . /app
WORKDIR /app
LABEL python.version=${PY}
CMD ["uwsgi", "--ini", "uwsgi.ini"]

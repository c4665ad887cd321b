FROM python:3.12-alpine

ENV PYTHONUNBUFFERED=1

RUN apk add postgresql-libs libjpeg

COPY requirements.txt /tmp/
RUN apk add --no-cache --virtual .build-deps \
        gcc \
        musl-dev \
        postgresql-dev \
        jpeg-dev \
        zlib-dev \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && apk --purge del .build-deps

RUN apk update && apk add --no-cache bash

WORKDIR /app
COPY . .
RUN adduser -D worker
USER worker
CMD ["python", "-m", "worker"]

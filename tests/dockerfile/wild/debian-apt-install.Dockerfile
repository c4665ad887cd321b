FROM debian:bookworm

RUN apt update && apt install -y \
    nginx \
    certbot \
    python3-certbot-nginx \
    && rm -rf /var/lib/apt/lists/*

RUN apt-get update && apt-get install -y --no-install-recommends cron \
    && apt-get clean \
    && rm -rf /tmp/*

COPY nginx.conf /etc/nginx/nginx.conf
COPY crontab /etc/cron.d/certbot
EXPOSE 80 443
CMD ["nginx", "-g", "daemon off;"]

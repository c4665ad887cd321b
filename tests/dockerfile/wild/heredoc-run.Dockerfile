# syntax=docker/dockerfile:1.4
FROM debian:bookworm-slim

RUN <<EOF
set -eux
apt-get update
apt-get install -y --no-install-recommends \
    ca-certificates \
    python3 \
    python3-venv
rm -rf /var/lib/apt/lists/*
EOF

RUN <<EOF
python3 -m venv /opt/venv
/opt/venv/bin/pip install --upgrade pip
/opt/venv/bin/pip install flask gunicorn
EOF

RUN <<-EOT bash
	set -e
	apt-get update
	apt-get install -y procps
EOT

COPY <<EOF /etc/app/config.ini
[server]
port = 8080
EOF

COPY app.py /opt/app/
ENV PATH=/opt/venv/bin:$PATH
CMD ["gunicorn", "--chdir", "/opt/app", "app:app"]

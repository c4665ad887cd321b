FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
COPY src/ /app/

FROM gcr.io/distroless/python3-debian12
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
ENV PYTHONPATH=/venv/lib/python3.11/site-packages
USER nonroot
ENTRYPOINT ["python3", "/app/main.py"]

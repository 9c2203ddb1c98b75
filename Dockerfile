# The catalog service: `catalog serve` on port 8000, as a non-root user.
# Build: docker build -t public-catalog .   With Neo4j: docker compose up (see docker-compose.yml).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY . .
# Installed into a venv that the runtime stage copies whole, so no build leftovers reach the final image.
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CATALOG_STORE=sqlite:////data/catalog.db \
    CATALOG_POLICY_DIR=/app/policies \
    CATALOG_PORT=8000
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin catalog \
 && mkdir -p /data \
 && chown catalog:catalog /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY policies /app/policies
USER catalog
# The embedded SQLite store lives here unless CATALOG_STORE points elsewhere (docker-compose uses Neo4j).
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:' + os.environ.get('CATALOG_PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["catalog"]
CMD ["serve", "--host", "0.0.0.0"]

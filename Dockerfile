# tcpr-assist service image.
#   docker build -t tcpr-assist .
#   docker run -p 8000:8000 -v tcpr-data:/data tcpr-assist
# PostgreSQL and a broker come by URL: -e TCPR_DATABASE_URL=postgresql+asyncpg://... .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service service
COPY cad_adapters cad_adapters
COPY migrations migrations
COPY ui ui
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TCPR_DATABASE_URL=sqlite+aiosqlite:////data/tcpr.db
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data tcpr \
 && mkdir -p /data && chown tcpr /data
USER tcpr
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# Replicas sharing one database: run `tcpr migrate` once, then start each with --no-migrate.
CMD ["tcpr", "serve", "--host", "0.0.0.0", "--port", "8000"]

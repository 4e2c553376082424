# tcpr-assist service image.
#   docker build -t tcpr-assist .
#   docker run -p 8000:8000 -v tcpr-data:/data tcpr-assist
# PostgreSQL and a broker come by URL: -e TCPR_DATABASE_URL=postgresql+asyncpg://... .
#
# Everything installed comes from uv.lock (the runtime set, exact versions with hashes), by the uv
# pinned with its hashes in requirements-uv.txt: the image runs the very versions CI tested.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements-uv.txt ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements-uv.txt
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/tcpr
# Dependencies first (a layer that changes only with the lock), then the project as a wheel.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3
COPY README.md ./
COPY contract contract
COPY service service
COPY cad_adapters cad_adapters
COPY migrations migrations
COPY ui ui
RUN uv sync --frozen --no-dev --no-editable --python /usr/local/bin/python3

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/tcpr/bin:$PATH \
    TCPR_DATABASE_URL=sqlite+aiosqlite:////data/tcpr.db
COPY --from=build /opt/tcpr /opt/tcpr
RUN useradd --system --uid 10001 --home-dir /data tcpr \
 && mkdir -p /data && chown tcpr /data
USER tcpr
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# Replicas sharing one database: run `tcpr migrate` once, then start each with --no-migrate.
CMD ["tcpr", "serve", "--host", "0.0.0.0", "--port", "8000"]

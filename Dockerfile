# VibeNVR Config. Build: docker build -t vibenvr-config .   Run: docker compose up -d
# Stage 1 fetches htmx with npm (pinned by package-lock.json); nothing is loaded from a CDN.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p static/vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIBENVR_DATA_DIR=/data \
    VIBENVR_HOST=0.0.0.0 \
    VIBENVR_PORT=8000
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY app.py ./
COPY vibenvr ./vibenvr
COPY templates ./templates
COPY static ./static
COPY --from=assets /build/static/vendor ./static/vendor
RUN useradd --system --uid 1000 --home-dir /data --shell /usr/sbin/nologin vibenvr \
 && mkdir -p /data && chown vibenvr:vibenvr /data
USER vibenvr
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"
# Two workers; the backup scheduler runs in exactly one of them (a file lock in /data decides).
CMD ["sh", "-c", "exec gunicorn --workers 2 --threads 4 --bind ${VIBENVR_HOST}:${VIBENVR_PORT} --access-logfile - app:app"]

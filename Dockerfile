# payfix — the Slack app. Build: docker build -t payfix .   Run: docker run --env-file .env -p 3000:3000 payfix
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000 \
    PAYFIX_DATABASE_URL=sqlite:////app/data/payfix.db

WORKDIR /app
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin payfix \
    && mkdir -p /app/data && chown payfix:payfix /app/data

# Dependencies first (cached until pyproject.toml changes), then the code and its data.
COPY pyproject.toml README.md setup.py ./
RUN mkdir bot && touch bot/__init__.py && pip install . && pip uninstall -y payfix && rm -rf bot build
COPY bot/ bot/
COPY prompts/ prompts/
COPY knowledge/ knowledge/
# Editable: the code reads prompts/ and knowledge/ next to bot/, so it must run from /app. The per-message hot
# path is compiled with mypyc (setup.py, as `make` does); the compiler and mypy are needed for that step only.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install "setuptools>=69" wheel "mypy>=1.13,<3" "types-PyYAML>=6.0,<7" \
    && PAYFIX_COMPILE=1 pip install --no-build-isolation --no-deps -e . \
    && pip uninstall -y mypy types-PyYAML \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* build \
    && payfix kb check

USER payfix
EXPOSE 3000
VOLUME ["/app/data"]
# No curl in slim images: Python asks /healthz (served in HTTP and in Socket Mode).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"
# Exec form: payfix is PID 1 and gets SIGTERM itself (uvicorn drains, then the app finishes its drafts).
STOPSIGNAL SIGTERM
CMD ["payfix", "serve"]

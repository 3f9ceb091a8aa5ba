# Tairyo's application image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 1000 --home-dir /app tairyo
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=tairyo:tairyo . .

# Static files are collected at build time with throw-away settings: nothing secret is baked in.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    DJANGO_ALLOWED_HOSTS=build TAIRYO_BASE_URL=https://build \
    TAIRYO_FIELD_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 TAIRYO_EMAIL_PROVIDER=console \
    python manage.py collectstatic --noinput

USER tairyo
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--logger-class", "portal.gunicorn_logging.MaskedTokenLogger"]

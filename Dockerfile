# The workbench image used by docker-compose for both the web app and the Celery worker.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . \
    && npm ci --no-audit --no-fund \
    && python scripts/vendor_assets.py
ENV DEBUG=false
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && python manage.py collectstatic --no-input && gunicorn workbench.wsgi:application --bind 0.0.0.0:8000 --workers 3"]

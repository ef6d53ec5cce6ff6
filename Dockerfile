FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY strategies ./strategies
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --create-home hedgebot && mkdir -p /app/data \
    && chown hedgebot /app/data
USER hedgebot
CMD ["hedgebot", "run"]

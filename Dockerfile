# humanseg, CPU image (not built in CI: these machines cannot build containers).
#   docker build -t humanseg .                                  # the HTTP server (last stage)
#   docker run -p 8000:8000 humanseg                            # playground at http://localhost:8000/
#   docker build --target lambda -t humanseg-lambda .           # AWS Lambda container image
# SageMaker runs `docker run IMAGE serve`; set HUMANSEG_PORT=8080 in the model's environment.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUMANSEG_MODEL_DIR=/opt/humanseg/models

COPY pyproject.toml README.md LICENSE /build/
COPY src /build/src
RUN pip install "/build[cpu,video]" && rm -rf /build

# The default model is pulled and checksum-verified at build time, so containers start offline.
ARG MODEL=auto
ENV HUMANSEG_MODEL=${MODEL}
RUN humanseg models pull "${MODEL}" && chmod -R a+rX /opt/humanseg

RUN useradd --system --no-create-home --uid 10001 humanseg
WORKDIR /tmp


FROM base AS lambda
# the `lambda` extra (Mangum, the ASGI adapter) and AWS's runtime interface client
COPY pyproject.toml README.md LICENSE /build/
COPY src /build/src
RUN pip install "/build[lambda]" awslambdaric && rm -rf /build
USER humanseg
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["humanseg.adapters.aws_lambda.handler"]


FROM base AS server
ENV HUMANSEG_HOST=0.0.0.0 \
    HUMANSEG_PORT=8000
USER humanseg
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD \
    python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"HUMANSEG_PORT\"]}/readyz', timeout=4)"
ENTRYPOINT ["humanseg"]
CMD ["serve"]

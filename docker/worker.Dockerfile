# GPU worker image: CUDA 12 runtime + cuDNN 9 (what ONNX Runtime's CUDA 12 build links against),
# Node 24 copied from the official image, ONNX Runtime installed with its CUDA 12 binaries.
# Build from the repository root: docker build -f docker/worker.Dockerfile -t sdsvc-worker .
# Run with the NVIDIA container toolkit (compose reserves the GPU).
FROM node:24-slim AS node

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production

COPY . .
# cuda12: fetch ONNX Runtime's CUDA execution provider (the repository's .npmrc says skip).
RUN npm ci --omit=dev --onnxruntime-node-install=cuda12 \
 && npm cache clean --force

ENV ROLE=worker \
    MODELS_DIR=/models \
    EXECUTION_PROVIDERS=cuda,cpu \
    WORKER_CONCURRENCY=1 \
    WORKER_HEALTH_PORT=8081
EXPOSE 8081
USER ubuntu

# Ready = Redis answers and the engine thread is alive with DEFAULT_MODEL loaded (the first load on
# a GPU can take a while: start period 120 s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.WORKER_HEALTH_PORT || 8081) + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

CMD ["node", "apps/worker/src/main.ts"]

# API image: Fastify only, no GPU. Node 24 runs the TypeScript sources directly (type stripping).
# Build from the repository root: docker build -f docker/api.Dockerfile -t sdsvc-api .
FROM node:24-slim

WORKDIR /app
ENV NODE_ENV=production

COPY . .
# The API never runs ONNX Runtime: skip its optional CUDA downloads.
RUN npm ci --omit=dev --onnxruntime-node-install=skip \
 && npm cache clean --force

ENV ROLE=api \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODELS_DIR=/models
EXPOSE 8080
USER node

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

CMD ["node", "apps/api/src/main.ts"]

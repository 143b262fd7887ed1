// `npm run openapi`: writes openapi.yaml at the repository root.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderOpenApiYaml } from './document.ts';

export const OPENAPI_PATH = fileURLToPath(new URL('../../../../openapi.yaml', import.meta.url));

if (import.meta.main) {
  writeFileSync(OPENAPI_PATH, renderOpenApiYaml());
  console.log(`wrote ${OPENAPI_PATH}`);
}

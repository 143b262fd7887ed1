export { checkLayout, COMPONENT_DIRS, describeMissing, exportFolders, isWanted, type LayoutCheck } from './layout.ts';
export { checkHash, gitBlobOid, sha256File } from './hashing.ts';
export { HubError, listRepoFiles, openRemote, type HubOptions, type RemoteFile } from './remote.ts';
export { MANIFEST_FILE, readManifest, type ModelManifest } from './manifest.ts';
export { checkModelId, DEFAULT_HUB_URL, defaultModelId, DOWNLOADS_DIR, pullModel, TRASH_DIR, type PullOptions, type PullProgress, type PullResult } from './pull.ts';
export { listLocalModels, removeModel, verifyModel, type LocalModel, type VerifyResult } from './local.ts';

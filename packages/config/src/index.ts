export { loadConfig, ConfigError } from './load-config.ts';
export type { Config, ConfigProblem, LoadConfigOptions, Role, LogLevel, ExecutionProvider, SafetyMode } from './load-config.ts';
export {
  VARIABLES, VARIABLE_NAMES, ROLES, LOG_LEVELS, EXECUTION_PROVIDERS, DEFAULT_WEBHOOK_RETRY_SCHEDULE,
} from './variables.ts';
export type { VariableDoc } from './variables.ts';
export { parseStorageUrl } from './storage-url.ts';
export type { StorageLocation } from './storage-url.ts';
export { checkWebhookSecret } from './webhook-secret.ts';
export type { CostLimitOverrides } from './model-limits.ts';
export { parseBoolean, parseDuration, parseBytes } from './parsers.ts';

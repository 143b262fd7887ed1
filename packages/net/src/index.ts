export { UrlNotAllowedError, HostLookupError, ImageFetchError, ImageTooLargeError, RequestTimeoutError } from './errors.ts';
export { blockedReason, isPublicAddress } from './address-rules.ts';
export { assertPublicUrl, safeLookup, resolveAll } from './assert-public-url.ts';
export type { UrlRuleOptions, ResolveAll } from './assert-public-url.ts';
export { safeRequest } from './safe-request.ts';
export type { SafeRequestOptions, SafeResponse } from './safe-request.ts';
export { fetchImage } from './fetch-image.ts';
export type { FetchImageOptions, FetchedImage } from './fetch-image.ts';

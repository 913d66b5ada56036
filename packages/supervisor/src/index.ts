export { PLATFORM_APPS, startPlatform, type Platform, type PlatformApp, type PlatformOptions } from './local-processes';

// The platform launcher, for tests that run the apps as processes (tests/).
export { PLATFORM_APPS, startPlatform, type Platform, type PlatformApp, type PlatformOptions } from './platform';
export { startRedisServer, redisAnswers } from './redis-server';

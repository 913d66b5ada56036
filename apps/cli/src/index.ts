// Redis for tests that run the platform as processes (tests/).
export { startRedisServer, redisAnswers } from './redis-server';

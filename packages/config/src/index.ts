export { settings, type Config } from './schema';
export { environmentWith, loadConfig, loadConfigOrExit, ConfigError } from './load';

export { settings, type Config } from './schema';
export { loadConfig, loadConfigOrExit, ConfigError } from './load';

export { detectLanguage, languageDetectorLoaded } from './language';

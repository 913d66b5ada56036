// The step's logic, for tests that drive it together with another app's (tests/).
export { preprocess, preprocessSettings, type PreprocessSettings } from './preprocess';
export { OrientationDetector } from './orientation';

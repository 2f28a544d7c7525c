// The public surface of src/demo/: other folders import from here only.
export { DEFAULT_DEMO_ENCODERS, runDemo } from './story.js';

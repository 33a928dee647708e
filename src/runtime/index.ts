export { availableIsas, loadModel, loadModelBytes, type Isa, type LoadOptions, type Model } from './model.js';

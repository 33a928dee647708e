export { availableIsas, loadModel, loadModelBytes, type Isa, type LayerTime, type LoadOptions, type Model } from './model.js';

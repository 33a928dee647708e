export { availableIsas, loadModel, loadModelBytes, type Isa, type LayerTime, type LoadOptions, type Model, type Schedule } from './model.js';

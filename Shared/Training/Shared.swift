// The one module every week imports. Shared is four layers, each a SwiftPM target whose folder
// is its place in the dependency graph, arrows pointing down only (the compiler refuses a
// wrong-way import):
//   Shared/Training  this module: the training loop over any LanguageModel, checkpoints on
//                    disk, the Hugging Face export and the GPT weeks' flags (where NN meets files)
//   Shared/NN        layers, models, optimizers, the sampler            (on Kernels, Tools, Data)
//   Shared/Data      datasets, tokenizers, text files                   (on Kernels, Tools)
//   Shared/Tools     command line, progress, plots, JSON, safetensors   (on Kernels)
//   Shared/Kernels   pure math on Float buffers, threads, the seeded generator (on nothing)
// `import Shared` brings all of them.
@_exported import SharedKernels
@_exported import SharedTools
@_exported import SharedData
@_exported import SharedNN

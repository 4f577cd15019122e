// Week 04: the modern training workflow, the way PyTorch users work, still without autograd.
// The week 3 MLP becomes reusable modules with hand-written backward passes; around it: a
// data loader, four optimizers, learning-rate schedules, dropout, weight decay, early
// stopping on the validation loss, checkpoints with --resume, and one config type.
//
// Read, in order:
//   Shared/NN/Module.swift      the Module protocol (forward keeps a cache, backward adds into
//                               parameter gradients) and Sequential
//   Shared/NN/Layers.swift      Linear, ReLU/GELU/Tanh, inverted Dropout;  Losses.swift
//   Shared/NN/Optimizers.swift  SGD, momentum/Nesterov, Adam, AdamW;  Schedules.swift
//   Shared/Data/DataLoader.swift  seeded shuffling, batches, the epoch iterator
//   Model.swift                 the MLP from modules, gradient checks of every module
//   Regularization.swift        weight decay: L2 in the loss vs decoupled (why AdamW exists)
//   main.swift                  this file: the config, then runWeek04
//   Week04.swift                runWeek04, the lesson top to bottom (the tests run it too)
//   Training.swift              the epoch loop, validation, early stopping, checkpoints
//   Config.swift, Run.swift     flags / --config, experiments, plots and metrics
//
// Run:   swift run -c release Week04Training --dataset fashion-mnist       (the default run)
//        swift run -c release Week04Training --experiment optimizers | regularization
//        swift run -c release Week04Training --stop-after 5, then --resume runs/Week04/last.safetensors
// Test:  swift test --filter Week04
// Expect: Fashion-MNIST 89.8% test accuracy (early stop after 26 of 30 epochs, median 3.3 s per
//         epoch on 2 cores); the 8x8 digits 98.6% in ~15 s; metrics.json, loss.svg, lr.svg and
//         checkpoints (last.safetensors, best.safetensors) in runs/Week04/.
import Shared

// MARK: 1. Config: defaults < --config FILE < flags; printed, and stored in metrics.json and checkpoints
let options = Options(program: "Week04Training",
                      summary: "an MLP built from modules, trained with AdamW, dropout, a warmup-cosine schedule and early stopping")
let config = Week04Config(options)
options.finish()

// MARK: 2-7. Data, model, checks, training, the test set once, outputs: runWeek04 (Run.swift)
let result = check { try runWeek04(config, log: say) }
if result.divergence != nil { fail("training diverged (see above): rerun with a smaller --lr") }

// Learning-rate schedules (week 4 on): the learning rate as a function of the step. Set
// `optimizer.learningRate = schedule.learningRate(step:)` before each optimizer step.
// Reference: https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate,
// nanoGPT's get_lr (linear warmup, then cosine down to a floor).
import SharedKernels
import SharedTools
import SharedData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate for every step 0, 1, 2, ... of a run of `totalSteps` steps.
public enum LearningRateSchedule: Equatable {
    /// lr at every step.
    case constant(lr: Float)
    /// Step decay: lr · factorᵏ where k = ⌊step / every⌋ (e.g. halve every 5 epochs' worth).
    case stepDecay(lr: Float, every: Int, factor: Float)
    /// Cosine from lr (step 0) down to minLR (step totalSteps):
    ///   minLR + ½(lr − minLR)(1 + cos(π·step/totalSteps))
    case cosine(lr: Float, minLR: Float, totalSteps: Int)
    /// Linear warmup from lr/warmupSteps to lr over the first warmupSteps steps, then cosine
    /// from lr to minLR over the remaining steps (nanoGPT). Warmup keeps Adam's first steps
    /// small while its second-moment estimate v is still noisy.
    case warmupCosine(lr: Float, minLR: Float, warmupSteps: Int, totalSteps: Int)
    /// nanoGPT's get_lr, to the step: lr·(step + 1)/(warmupSteps + 1) while step < warmupSteps,
    /// then a cosine from lr (at warmupSteps) to minLR (at decaySteps, nanoGPT's lr_decay_iters),
    /// minLR after. Weeks 8-10 use it so their runs follow nanoGPT's step for step.
    case nanoGPT(lr: Float, minLR: Float, warmupSteps: Int, decaySteps: Int)

    /// The learning rate at `step` (0-based). Steps past the end keep the final value.
    public func learningRate(step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case .stepDecay(let lr, let every, let factor):
            let k = step / max(every, 1)
            return lr * Float(pow(Double(factor), Double(k)))
        case .cosine(let lr, let minLR, let totalSteps):
            return cosineValue(lr: lr, minLR: minLR, progress: Double(step) / Double(max(totalSteps, 1)))
        case .warmupCosine(let lr, let minLR, let warmupSteps, let totalSteps):
            if step < warmupSteps {
                // (step + 1)/warmup: the first step already moves, the last warmup step reaches lr
                return lr * Float(step + 1) / Float(warmupSteps)
            }
            let decaySteps = max(totalSteps - warmupSteps, 1)
            return cosineValue(lr: lr, minLR: minLR, progress: Double(step - warmupSteps) / Double(decaySteps))
        case .nanoGPT(let lr, let minLR, let warmupSteps, let decaySteps):
            if step < warmupSteps { return lr * Float(step + 1) / Float(warmupSteps + 1) }
            if step > decaySteps || decaySteps <= warmupSteps { return minLR }
            return cosineValue(lr: lr, minLR: minLR,
                               progress: Double(step - warmupSteps) / Double(decaySteps - warmupSteps))
        }
    }
}

/// minLR + ½(lr − minLR)(1 + cos(π·progress)), progress clamped to [0, 1].
func cosineValue(lr: Float, minLR: Float, progress: Double) -> Float {
    let t = min(max(progress, 0), 1)
    return minLR + Float(0.5 * (1 + cos(Double.pi * t))) * (lr - minLR)
}

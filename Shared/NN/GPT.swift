// The GPT of weeks 8-10, laid out as llm.c's train_gpt2.c: one parameter arena [matrices |
// gains and biases] with nanoGPT's names as views into it, one gradient arena of the same
// layout, and every activation a named buffer with its shape, all allocated once, so a training
// step allocates nothing. The block is GPT-2's, in straight lines: `blockForward` and
// `blockBackward` below, each step one kernel call from Shared/Kernels. The variants a lesson
// compares (Post-LN, RMSNorm, ReLU, positions, dropout) are small pieces beside that path.
// Week 8 trains it; week 9 samples from it (GPTKVCache.swift); week 10 fine-tunes it.
// References: Radford et al., GPT-2 (2019); nanoGPT model.py; llm.c train_gpt2.c.
import SharedKernels
import SharedTools
import SharedData

/// Every architectural choice of a GPT. The defaults are nanoGPT's shakespeare_char CPU model.
public struct GPTConfig: Equatable {
    public enum Norm: String, CaseIterable { case layerNorm = "layernorm", rmsNorm = "rmsnorm" }
    public enum Activation: String, CaseIterable { case gelu, relu }
    public enum Positions: String, CaseIterable { case learned, sinusoidal, none }

    /// V, the number of token ids.
    public var vocabularySize: Int
    /// T, the longest sequence the model reads (the position table's length).
    public var context: Int = 64
    /// L, the number of blocks.
    public var layers: Int = 4
    /// H, attention heads per block; C must be a multiple of H (head size D = C / H).
    public var heads: Int = 4
    /// C, the width of the residual stream.
    public var width: Int = 128
    /// Biases in every Linear and LayerNorm (nanoGPT's `bias`).
    public var bias: Bool = false
    /// The LM head reuses the token embedding matrix (weight tying).
    public var tiedHead: Bool = true
    /// Pre-LN (x + f(LN(x)), GPT-2) or Post-LN (LN(x + f(x)), the 2017 Transformer).
    public var preNorm: Bool = true
    public var norm: Norm = .layerNorm
    public var activation: Activation = .gelu
    public var positions: Positions = .learned
    /// Dropout probability on the embedding sum, the attention weights and both residual branches.
    public var dropout: Float = 0

    public init(vocabularySize: Int, context: Int = 64, layers: Int = 4, heads: Int = 4, width: Int = 128,
                bias: Bool = false, tiedHead: Bool = true, preNorm: Bool = true, norm: Norm = .layerNorm,
                activation: Activation = .gelu, positions: Positions = .learned, dropout: Float = 0) {
        self.vocabularySize = vocabularySize
        self.context = context
        self.layers = layers
        self.heads = heads
        self.width = width
        self.bias = bias
        self.tiedHead = tiedHead
        self.preNorm = preNorm
        self.norm = norm
        self.activation = activation
        self.positions = positions
        self.dropout = dropout
    }

    /// Throws one line naming the first impossible setting.
    public func validate() throws {
        func bad(_ message: String) -> WorkbookError { WorkbookError("GPT config: " + message) }
        guard vocabularySize >= 1 else { throw bad("vocabulary size must be at least 1, got \(vocabularySize)") }
        guard context >= 1 else { throw bad("context must be at least 1, got \(context)") }
        guard layers >= 1 else { throw bad("layers must be at least 1, got \(layers)") }
        guard heads >= 1, width >= 1, width % heads == 0 else {
            throw bad("width \(width) must be a positive multiple of heads \(heads)")
        }
        guard dropout >= 0 && dropout < 1 else { throw bad("dropout must be in [0, 1), got \(dropout)") }
    }

    /// The configuration as JSON (checkpoints and metrics.json).
    public var json: JSONValue {
        ["vocab_size": JSONValue(vocabularySize), "context": JSONValue(context), "layers": JSONValue(layers),
         "heads": JSONValue(heads), "width": JSONValue(width), "bias": JSONValue(bias),
         "tied_head": JSONValue(tiedHead), "pre_norm": JSONValue(preNorm), "norm": JSONValue(norm.rawValue),
         "activation": JSONValue(activation.rawValue), "positions": JSONValue(positions.rawValue),
         "dropout": JSONValue(dropout)]
    }

    /// Reads `json` back; every field must be present and valid.
    public init(json: JSONValue) throws {
        func field<T>(_ name: String, _ read: (JSONValue) -> T?) throws -> T {
            guard let value = json[name].flatMap(read) else {
                throw WorkbookError("GPT config: field '\(name)' is missing or has the wrong type")
            }
            return value
        }
        func choice<E: RawRepresentable>(_ name: String, _ type: E.Type) throws -> E where E.RawValue == String {
            let text = try field(name) { $0.stringValue }
            guard let value = E(rawValue: text) else { throw WorkbookError("GPT config: unknown \(name) '\(text)'") }
            return value
        }
        self.init(vocabularySize: try field("vocab_size") { $0.intValue }, context: try field("context") { $0.intValue },
                  layers: try field("layers") { $0.intValue }, heads: try field("heads") { $0.intValue },
                  width: try field("width") { $0.intValue }, bias: try field("bias") { $0.boolValue },
                  tiedHead: try field("tied_head") { $0.boolValue }, preNorm: try field("pre_norm") { $0.boolValue },
                  norm: try choice("norm", Norm.self), activation: try choice("activation", Activation.self),
                  positions: try choice("positions", Positions.self),
                  dropout: Float(try field("dropout") { $0.doubleValue }))
        try validate()
    }

    /// Model FLOPs per token of one training step (forward + backward), PaLM's / nanoGPT's
    /// estimate: 6 per weight of the matrices that multiply activations (the token embedding
    /// counts only as the tied head, the position table not at all), plus attention's
    /// 12·L·C·T (q·kᵀ and weights·v, forward and backward, at full context).
    public var trainingFLOPsPerToken: Double {
        let C = Double(width), L = Double(layers)
        let matrixWeights = 12 * L * C * C + Double(vocabularySize) * C
        return 6 * matrixWeights + 12 * L * C * Double(context)
    }
}

/// One named tensor inside an arena: nanoGPT's name, where it starts and its shape.
public struct GPTTensorView: Equatable {
    public let name: String
    public let offset: Int
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
}

public typealias FloatPointer = UnsafeMutablePointer<Float>

/// Hands out zeroed Float buffers that start on 64-byte boundaries (so vector loads line up),
/// and frees them all together. The GPT takes every activation buffer from one at init, its KV
/// cache likewise (the parameters and gradients are two contiguous arenas of their own).
final class FloatArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    func take(_ count: Int) -> FloatPointer {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        allocations.append(raw)
        let buffer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        buffer.initialize(repeating: 0, count: max(1, count))
        return buffer
    }

    deinit { for raw in allocations { raw.deallocate() } }
}

/// Where block l's parameters sit in the arena (nil: this configuration has no such tensor).
struct BlockParameters {
    var ln1Weight = 0, ln1Bias: Int?, attnWeight = 0, attnBias: Int?, projWeight = 0, projBias: Int?
    var ln2Weight = 0, ln2Bias: Int?, fcWeight = 0, fcBias: Int?, fcProjWeight = 0, fcProjBias: Int?
}

/// What one block's forward keeps for its backward, llm.c's ActivationTensors for one layer.
/// N = B·T rows; names in brackets are llm.c's.
struct BlockActivations {
    let ln1: FloatPointer           // (N, C)     LN_1(x), the attention's input           [ln1]
    let ln1Mean: FloatPointer       // (N)                                                 [ln1_mean]
    let ln1Rstd: FloatPointer       // (N)                                                 [ln1_rstd]
    let qkv: FloatPointer           // (N, 3C)    q | k | v, heads side by side in each    [qkv]
    let attnProbs: FloatPointer     // (B, H, T, T) softmax(q·kᵀ/√D), 0 above the diagonal [att]
    let attnY: FloatPointer         // (N, C)     the heads' outputs, before c_proj        [atty]
    let attnProj: FloatPointer      // (N, C)     attnY·W_projᵀ                            [attproj]
    let residual1: FloatPointer     // (N, C)     x + attnProj                             [residual2]
    let ln2: FloatPointer           // (N, C)     LN_2(residual1), the MLP's input         [ln2]
    let ln2Mean: FloatPointer       // (N)                                                 [ln2_mean]
    let ln2Rstd: FloatPointer       // (N)                                                 [ln2_rstd]
    let fcPre: FloatPointer         // (N, 4C)    ln2·W_fcᵀ                                [fch]
    let fcAct: FloatPointer         // (N, 4C)    gelu(fcPre)                              [fch_gelu]
    let fcProj: FloatPointer        // (N, C)     fcAct·W_fcprojᵀ                          [fcproj]
    let residual2: FloatPointer     // (N, C)     residual1 + fcProj: the block's output   [residual3]
    let dropout: DropoutMasks?      // only when the model has dropout

    /// With dropout, the masks of one forward (the backward applies the same ones).
    struct DropoutMasks {
        let attnMask: FloatPointer      // (B, H, T, T)
        let attnWeights: FloatPointer   // (B, H, T, T)  attnProbs ⊙ attnMask, what multiplies v
        let attnProjMask: FloatPointer  // (N, C)
        let fcProjMask: FloatPointer    // (N, C)
    }

    init(arena: FloatArena, batch B: Int, length T: Int, width C: Int, heads H: Int, dropout: Bool) {
        let N = B * T
        ln1 = arena.take(N * C); ln1Mean = arena.take(N); ln1Rstd = arena.take(N)
        qkv = arena.take(N * 3 * C)
        attnProbs = arena.take(B * H * T * T)
        attnY = arena.take(N * C); attnProj = arena.take(N * C); residual1 = arena.take(N * C)
        ln2 = arena.take(N * C); ln2Mean = arena.take(N); ln2Rstd = arena.take(N)
        fcPre = arena.take(N * 4 * C); fcAct = arena.take(N * 4 * C); fcProj = arena.take(N * C)
        residual2 = arena.take(N * C)
        self.dropout = !dropout ? nil : DropoutMasks(attnMask: arena.take(B * H * T * T),
                                                      attnWeights: arena.take(B * H * T * T),
                                                      attnProjMask: arena.take(N * C), fcProjMask: arena.take(N * C))
    }
}

/// The backward's gradients of activations, one set shared by every block (each block's
/// backward is done with them before the next one starts). N = B·T rows.
struct BackwardBuffers {
    let dLogits: FloatPointer       // (N, V)
    let dLnf: FloatPointer          // (N, C)   gradient of LN_f's output
    let dResidual: FloatPointer     // (N, C)   gradient of the residual stream, walking down
    let dNormed: FloatPointer       // (N, C)   gradient of a block's LN_1 or LN_2 output
    let dBranch: FloatPointer       // (N, C)   a residual branch's gradient after its dropout mask
    let dSum: FloatPointer          // (N, C)   Post-LN: gradient of a residual sum under its norm
    let dAttnY: FloatPointer        // (N, C)
    let dQKV: FloatPointer          // (N, 3C)
    let dScores: FloatPointer       // (B, H, T, T) attention's scratch
    let dFcAct: FloatPointer        // (N, 4C)
    let dFcPre: FloatPointer        // (N, 4C)

    init(arena: FloatArena, batch B: Int, length T: Int, width C: Int, heads H: Int, vocabularySize V: Int) {
        let N = B * T
        dLogits = arena.take(N * V); dLnf = arena.take(N * C); dResidual = arena.take(N * C)
        dNormed = arena.take(N * C); dBranch = arena.take(N * C); dSum = arena.take(N * C)
        dAttnY = arena.take(N * C); dQKV = arena.take(N * 3 * C); dScores = arena.take(B * H * T * T)
        dFcAct = arena.take(N * 4 * C); dFcPre = arena.take(N * 4 * C)
    }
}

/// Sets `count` floats at `buffer` to 0: the backward zeroes each activation gradient right
/// before the kernel that adds into it first.
@inline(__always)
func zero(_ buffer: FloatPointer, _ count: Int) { buffer.update(repeating: 0, count: count) }

/// A GPT: its configuration, parameters, gradients and activations.
public final class GPT {
    public let config: GPTConfig
    /// Largest batch the activations hold.
    public let maxBatch: Int

    /// Every parameter, matrices first (they take weight decay), then gains and biases.
    public let parameters: FloatPointer
    /// Gradients, same layout as `parameters`. Backward adds into them; `zeroGradients` clears.
    public let gradients: FloatPointer
    /// Total number of parameters (the tied matrix once).
    public let parameterCount: Int
    /// parameters[0 ..< matrixCount] are the matrices (weight decay applies to them only).
    public let matrixCount: Int
    /// The views, in arena order.
    public let views: [GPTTensorView]

    // Where each tensor starts in the parameter arena.
    let tokenEmbedding: Int              // wte (V, C)
    let positionEmbedding: Int?          // wpe (T, C), learned positions only
    let headWeight: Int                  // lm_head (V, C): wte itself when tied
    let lnfWeight: Int, lnfBias: Int?    // ln_f (C)
    let blocks: [BlockParameters]

    // The activations, sized for maxBatch × context.
    let arena = FloatArena()
    let blockActivations: [BlockActivations]
    let embedded: FloatPointer           // (N, C)   wte[ids] + wpe[t]   [encoded]
    let embeddingMask: FloatPointer?     // (N, C)   dropout only
    let positionTable: FloatPointer?     // (T, C)   sinusoidal positions only
    let lnf: FloatPointer                // (N, C)   LN_f(last block's output)   [lnf]
    let lnfMean: FloatPointer, lnfRstd: FloatPointer   // (N)
    /// (N, V) logits of the last forward pass.
    public let logits: FloatPointer
    let probs: FloatPointer              // (N, V)   softmax(logits), after a forward with targets
    let losses: FloatPointer             // (N)      per-position cross-entropy
    let noBias: FloatPointer             // (C)      zeros: a norm's bias in a model without biases
    let noBiasGradient: FloatPointer     // (C)      where that bias's gradient goes
    let grads: BackwardBuffers

    /// The ids and targets of the last forward pass, and its shape.
    var lastInputs: [Int] = []
    var lastTargets: [Int] = []
    public private(set) var lastBatch = 0, lastLength = 0
    /// Whether the last forward applied dropout (backward then applies the same masks).
    var lastTraining = false
    /// The dropout generator of `loss(_:training:carryState:)` (the LanguageModel entry point);
    /// checkpoints save its state.
    public var dropoutRNG = SplitMix64(seed: 0x6770_6472_6f70)

    /// A GPT with GPT-2's initialisation from `rng`: every matrix N(0, 0.02), except the two
    /// per block that write into the residual stream (attn.c_proj, mlp.c_proj), N(0, 0.02/√(2L)),
    /// so the stream's variance does not grow with depth; norm gains 1, biases 0.
    /// maxBatch: the largest batch `forward` will be given.
    public init(config: GPTConfig, maxBatch: Int, rng: inout SplitMix64) throws {
        try config.validate()
        guard maxBatch >= 1 else { throw WorkbookError("GPT: maxBatch must be at least 1, got \(maxBatch)") }
        self.config = config
        self.maxBatch = maxBatch
        let V = config.vocabularySize, T = config.context, C = config.width, L = config.layers, H = config.heads
        let hasBias = config.bias, normBias = config.bias && config.norm == .layerNorm

        // 1. The parameter layout: matrices, then vectors, in nanoGPT's names.
        var views: [GPTTensorView] = []
        var cursor = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            views.append(GPTTensorView(name: name, offset: cursor, shape: shape))
            cursor += shape.reduce(1, *)
            return cursor - shape.reduce(1, *)
        }
        tokenEmbedding = add("wte.weight", [V, C])
        positionEmbedding = config.positions == .learned ? add("wpe.weight", [T, C]) : nil
        var blocks = [BlockParameters](repeating: BlockParameters(), count: L)
        for l in 0..<L {
            blocks[l].attnWeight = add("h.\(l).attn.c_attn.weight", [3 * C, C])
            blocks[l].projWeight = add("h.\(l).attn.c_proj.weight", [C, C])
            blocks[l].fcWeight = add("h.\(l).mlp.c_fc.weight", [4 * C, C])
            blocks[l].fcProjWeight = add("h.\(l).mlp.c_proj.weight", [C, 4 * C])
        }
        headWeight = config.tiedHead ? tokenEmbedding : add("lm_head.weight", [V, C])
        matrixCount = cursor
        for l in 0..<L {
            blocks[l].ln1Weight = add("h.\(l).ln_1.weight", [C])
            if normBias { blocks[l].ln1Bias = add("h.\(l).ln_1.bias", [C]) }
            if hasBias {
                blocks[l].attnBias = add("h.\(l).attn.c_attn.bias", [3 * C])
                blocks[l].projBias = add("h.\(l).attn.c_proj.bias", [C])
            }
            blocks[l].ln2Weight = add("h.\(l).ln_2.weight", [C])
            if normBias { blocks[l].ln2Bias = add("h.\(l).ln_2.bias", [C]) }
            if hasBias {
                blocks[l].fcBias = add("h.\(l).mlp.c_fc.bias", [4 * C])
                blocks[l].fcProjBias = add("h.\(l).mlp.c_proj.bias", [C])
            }
        }
        lnfWeight = add("ln_f.weight", [C])
        lnfBias = normBias ? add("ln_f.bias", [C]) : nil
        self.blocks = blocks
        self.views = views
        parameterCount = cursor
        parameters = .allocate(capacity: cursor)
        gradients = .allocate(capacity: cursor)
        parameters.initialize(repeating: 0, count: cursor)
        gradients.initialize(repeating: 0, count: cursor)

        // 2. The activations, every buffer named where it is declared above.
        let B = maxBatch, N = B * T, dropout = config.dropout > 0, arena = arena
        blockActivations = (0..<L).map { _ in
            BlockActivations(arena: arena, batch: B, length: T, width: C, heads: H, dropout: dropout)
        }
        embedded = arena.take(N * C)
        embeddingMask = dropout ? arena.take(N * C) : nil
        positionTable = config.positions == .sinusoidal ? arena.take(T * C) : nil
        lnf = arena.take(N * C); lnfMean = arena.take(N); lnfRstd = arena.take(N)
        logits = arena.take(N * V); probs = arena.take(N * V); losses = arena.take(N)
        noBias = arena.take(C); noBiasGradient = arena.take(C)
        grads = BackwardBuffers(arena: arena, batch: B, length: T, width: C, heads: H, vocabularySize: V)
        if let positionTable { sinusoidalPositions(positionTable, length: T, width: C) }

        // 3. GPT-2's initialisation, tensor by tensor in arena order.
        let residualStd = 0.02 / Float(2 * L).squareRoot()
        for view in views {
            let p = parameters + view.offset
            if view.name.hasSuffix("ln_1.weight") || view.name.hasSuffix("ln_2.weight") || view.name == "ln_f.weight" {
                for i in 0..<view.count { p[i] = 1 }
            } else if view.shape.count == 2 {
                let std = view.name.hasSuffix("c_proj.weight") ? residualStd : 0.02
                for i in 0..<view.count { p[i] = rng.normal(mean: 0, std: std) }
            }
        }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// The view named `name`, or nil.
    public func view(_ name: String) -> GPTTensorView? { views.first { $0.name == name } }

    /// A copy of the parameter (or, with gradient, its gradient) named `name`.
    public func tensor(_ name: String, gradient: Bool = false) -> [Float]? {
        guard let view = view(name) else { return nil }
        let base = (gradient ? gradients : parameters) + view.offset
        return Array(UnsafeBufferPointer(start: base, count: view.count))
    }

    /// Overwrites the parameter named `name`; throws if the name or size does not match.
    public func setTensor(_ name: String, _ values: [Float]) throws {
        guard let view = view(name) else { throw WorkbookError("GPT has no parameter '\(name)'") }
        guard values.count == view.count else {
            throw WorkbookError("parameter '\(name)' has \(view.count) values (shape \(view.shape)), got \(values.count)")
        }
        values.withUnsafeBufferPointer { (parameters + view.offset).update(from: $0.baseAddress!, count: view.count) }
    }

    public func zeroGradients() { gradients.update(repeating: 0, count: parameterCount) }

    // MARK: - Forward

    /// Runs the model on `inputs` (B, T) of token ids; returns the mean cross-entropy against
    /// `targets` (B, T) when given (and keeps the probabilities for `backward`), else nil.
    /// Logits (B·T, V) are left in `logits`. B <= maxBatch, T <= context.
    /// training: apply dropout (masks drawn from `rng`); without it dropout is the identity.
    ///
    ///   x = wte[ids] + wpe[0..<T]                        (N, C), N = B·T
    ///   x = block_l(x) for l in 0..<L                    (N, C)   see `blockForward`
    ///   logits = LN_f(x)·wteᵀ                            (N, V)   the tied head
    ///   loss = mean_n −log softmax(logits[n])[target_n]
    @discardableResult
    public func forward(inputs: [Int], targets: [Int]?, batch B: Int, length T: Int, training: Bool = false,
                        rng: inout SplitMix64) -> Double? {
        precondition(B >= 1 && B <= maxBatch && T >= 1 && T <= config.context,
                     "GPT.forward: batch \(B) x length \(T) exceeds \(maxBatch) x \(config.context)")
        precondition(inputs.count == B * T && (targets?.count ?? B * T) == B * T, "GPT.forward: ids are not B x T")
        let V = config.vocabularySize, C = config.width, N = B * T
        precondition(inputs.allSatisfy { $0 >= 0 && $0 < V }, "GPT.forward: a token id is outside 0..<\(V)")
        lastInputs = inputs
        lastTargets = targets ?? []
        (lastBatch, lastLength) = (B, T)
        lastTraining = training && config.dropout > 0

        // 1. Embedding: token rows plus position rows (dropout on the sum).
        for n in 0..<N { embed(token: inputs[n], position: n % T, into: embedded + n * C) }
        if lastTraining, let mask = embeddingMask {
            dropoutForward(embedded, mask: mask, embedded, count: N * C, probability: config.dropout, rng: &rng)
        }
        // 2. The blocks, each reading the previous one's output.
        var x = UnsafePointer(embedded)
        let layout = AttentionLayout.fusedSelfAttention(batch: B, length: T, width: C, heads: config.heads)
        for l in 0..<config.layers {
            x = blockForward(l, x, blockActivations[l], rows: N, layout: layout, training: lastTraining, rng: &rng)
        }
        // 3. The final norm and the head.
        headForward(logits, lnf: lnf, mean: lnfMean, rstd: lnfRstd, x, rows: N)
        guard let targets else { return nil }
        precondition(targets.allSatisfy { $0 >= 0 && $0 < V }, "GPT.forward: a target id is outside 0..<\(V)")
        return targets.withUnsafeBufferPointer { t in
            softmaxCrossEntropyForward(losses: losses, probs: probs, logits: logits, targets: t.baseAddress!,
                                       rows: N, classes: V)
            var total = 0.0
            for n in 0..<N { total += Double(losses[n]) }
            return total / Double(N)
        }
    }

    /// One GPT-2 block (Pre-LN), llm.c's order. x: (N, C), the block's input; returns its output.
    ///   ln1 = LN_1(x)                           (N, C)
    ///   qkv = ln1·W_attnᵀ + b                   (N, 3C)
    ///   attnY = attention(q, k, v)              (N, C)   causal, H heads of D = C/H
    ///   attnProj = attnY·W_projᵀ + b            (N, C)
    ///   residual1 = x + dropout(attnProj)       (N, C)
    ///   ln2 = LN_2(residual1)                   (N, C)
    ///   fcPre = ln2·W_fcᵀ + b                   (N, 4C)
    ///   fcAct = gelu(fcPre)                     (N, 4C)
    ///   fcProj = fcAct·W_fcprojᵀ + b            (N, C)
    ///   residual2 = residual1 + dropout(fcProj) (N, C)   the output
    /// cache: when decoding, the block's keys and values so far (the new rows are appended to it
    /// and attention reads all of them); nil when training (attention reads qkv itself).
    /// training: apply dropout (the masks drawn from rng, kept in a.dropout for the backward).
    func blockForward(_ l: Int, _ x: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int, layout: AttentionLayout,
                      cache: KVCacheRows? = nil, training: Bool, rng: inout SplitMix64) -> UnsafePointer<Float> {
        if !config.preNorm {
            return postNormBlockForward(l, x, a, rows: N, layout: layout, cache: cache, training: training, rng: &rng)
        }
        let w = blocks[l], C = config.width, drop = training ? a.dropout : nil
        normForward(a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, x, weight: w.ln1Weight, bias: w.ln1Bias, rows: N)
        attentionBranchForward(l, a.ln1, a, rows: N, layout: layout, cache: cache, training: training, rng: &rng)
        residualForward(a.residual1, x, a.attnProj, mask: drop?.attnProjMask, count: N * C, rng: &rng)
        normForward(a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, a.residual1, weight: w.ln2Weight, bias: w.ln2Bias, rows: N)
        mlpBranchForward(l, a.ln2, a, rows: N)
        residualForward(a.residual2, a.residual1, a.fcProj, mask: drop?.fcProjMask, count: N * C, rng: &rng)
        return UnsafePointer(a.residual2)
    }

    /// attnProj = attention(input·W_attnᵀ + b)·W_projᵀ + b: the attention branch of block l,
    /// writing a.qkv, a.attnProbs, a.attnY and a.attnProj. input: (N, C).
    func attentionBranchForward(_ l: Int, _ input: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int,
                                layout: AttentionLayout, cache: KVCacheRows?, training: Bool, rng: inout SplitMix64) {
        let w = blocks[l], C = config.width
        linearForward(a.qkv, input, transposedWeight: parameters + w.attnWeight, bias: parameter(w.attnBias),
                      rows: N, inFeatures: C, outFeatures: 3 * C)
        var dropout: (mask: UnsafePointer<Float>, weights: FloatPointer)?
        if training, let masks = a.dropout {
            dropoutMask(masks.attnMask, count: layout.weightCount, probability: config.dropout, rng: &rng)
            dropout = (UnsafePointer(masks.attnMask), masks.attnWeights)
        }
        let query = UnsafePointer(a.qkv)
        if let cache {
            // decoding: append the new rows' keys and values, then attend over every cached row
            cache.append(qkv: query, rows: N, width: C)
            attentionForward(a.attnY, probs: a.attnProbs, query: query, key: cache.keys, value: cache.values,
                             layout: layout, mask: AttentionMask(causal: true, queryOffset: cache.start))
        } else {
            attentionForward(a.attnY, probs: a.attnProbs, query: query, key: query + C, value: query + 2 * C,
                             layout: layout, mask: AttentionMask(causal: true), dropout: dropout)
        }
        linearForward(a.attnProj, a.attnY, transposedWeight: parameters + w.projWeight, bias: parameter(w.projBias),
                      rows: N, inFeatures: C, outFeatures: C)
    }

    /// fcProj = act(input·W_fcᵀ + b)·W_fcprojᵀ + b: the MLP branch of block l, writing a.fcPre,
    /// a.fcAct and a.fcProj. input: (N, C).
    func mlpBranchForward(_ l: Int, _ input: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int) {
        let w = blocks[l], C = config.width
        linearForward(a.fcPre, input, transposedWeight: parameters + w.fcWeight, bias: parameter(w.fcBias),
                      rows: N, inFeatures: C, outFeatures: 4 * C)
        activationForward(a.fcAct, a.fcPre, count: N * 4 * C)
        linearForward(a.fcProj, a.fcAct, transposedWeight: parameters + w.fcProjWeight, bias: parameter(w.fcProjBias),
                      rows: N, inFeatures: 4 * C, outFeatures: C)
    }

    /// out = base + dropout(branch): a residual connection. With a mask (training a model with
    /// dropout) it is drawn here and applied to the branch; without one it is a plain sum.
    ///   out, base, branch, mask: (count values).
    func residualForward(_ out: FloatPointer, _ base: UnsafePointer<Float>, _ branch: FloatPointer,
                         mask: FloatPointer?, count n: Int, rng: inout SplitMix64) {
        if let mask {
            dropoutForward(branch, mask: mask, branch, count: n, probability: config.dropout, rng: &rng)
        }
        for i in 0..<n { out[i] = base[i] + branch[i] }
    }

    /// logits = LN_f(x)·W_headᵀ. x: (N, C)   lnf: (N, C)   mean, rstd: (N)   logits: (N, V).
    /// With a tied head, W_head is the token embedding matrix wte (V, C) read again.
    func headForward(_ logits: FloatPointer, lnf: FloatPointer, mean: FloatPointer, rstd: FloatPointer,
                     _ x: UnsafePointer<Float>, rows N: Int) {
        normForward(lnf, mean: mean, rstd: rstd, x, weight: lnfWeight, bias: lnfBias, rows: N)
        linearForward(logits, lnf, transposedWeight: parameters + headWeight, bias: nil,
                      rows: N, inFeatures: config.width, outFeatures: config.vocabularySize)
    }

    /// x = wte[token] + wpe[position] (or the sinusoidal table's row, or no position at all):
    /// the (C) row the blocks start from. The forward pass and cached decoding both embed so.
    func embed(token: Int, position t: Int, into x: FloatPointer) {
        let C = config.width, row = parameters + tokenEmbedding + token * C
        let position = positionEmbedding.map { UnsafePointer(parameters + $0 + t * C) }
            ?? positionTable.map { UnsafePointer($0 + t * C) }
        if let position { for c in 0..<C { x[c] = row[c] + position[c] } } else { x.update(from: row, count: C) }
    }

    /// The parameter starting at `offset`, if the model has it (biases are optional).
    func parameter(_ offset: Int?) -> UnsafePointer<Float>? { offset.map { UnsafePointer(parameters + $0) } }

    // MARK: - Backward

    /// Backward of lossScale × the mean loss of the last `forward` (which must have had
    /// targets): adds lossScale·dLoss/dθ into `gradients`. Walks the forward in reverse, every
    /// kernel adding (+=) into its gradient buffers, as llm.c's do: an activation gradient is
    /// zeroed right before the first kernel that adds into it. The residual stream's gradient
    /// passes through each block unchanged and gathers each branch's; the tied matrix gathers
    /// the head's and the embedding's gradients.
    public func backward(lossScale: Float = 1) {
        precondition(!lastTargets.isEmpty, "GPT.backward: the last forward had no targets")
        let B = lastBatch, T = lastLength, N = B * T, V = config.vocabularySize, C = config.width
        let g = grads

        // 3. logits = LN_f(x)·W_headᵀ, loss = mean cross-entropy
        zero(g.dLogits, N * V)
        lastTargets.withUnsafeBufferPointer { t in
            softmaxCrossEntropyBackward(dLogits: g.dLogits, probs: probs, targets: t.baseAddress!, rows: N,
                                        classes: V, lossScale: lossScale)
        }
        zero(g.dLnf, N * C)
        linearBackward(dX: g.dLnf, dWeight: gradients + headWeight, dBias: nil, dOut: g.dLogits, x: lnf,
                       transposedWeight: parameters + headWeight, rows: N, inFeatures: C, outFeatures: V)
        zero(g.dResidual, N * C)
        normBackward(dX: g.dResidual, dOut: g.dLnf, x: blockOutput(config.layers - 1), mean: lnfMean, rstd: lnfRstd,
                     weight: lnfWeight, bias: lnfBias, rows: N)

        // 2. The blocks, last first; on entry dResidual = dLoss/d(block output)
        let layout = AttentionLayout.fusedSelfAttention(batch: B, length: T, width: C, heads: config.heads)
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            blockBackward(l, x: blockInput(l), blockActivations[l], rows: N, layout: layout)
        }

        // 1. x = dropout(wte[ids] + wpe[t]): scatter-add the rows back
        if lastTraining, let mask = embeddingMask { for i in 0..<(N * C) { g.dResidual[i] *= mask[i] } }
        lastInputs.withUnsafeBufferPointer { ids in
            embeddingBackward(dTable: gradients + tokenEmbedding, dOut: g.dResidual, ids: ids.baseAddress!,
                              tokens: N, vocabulary: V, dimension: C)
        }
        if let positionEmbedding {
            for n in 0..<N {
                let dx = g.dResidual + n * C, dPosition = gradients + positionEmbedding + (n % T) * C
                for c in 0..<C { dPosition[c] += dx[c] }
            }
        }
    }

    /// Backward of `blockForward` (Pre-LN): on entry dResidual holds dLoss/d(residual2), on
    /// exit dLoss/dx. The forward's lines, in reverse:
    func blockBackward(_ l: Int, x: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int, layout: AttentionLayout) {
        if !config.preNorm { return postNormBlockBackward(l, x: x, a, rows: N, layout: layout) }
        let w = blocks[l], g = grads, C = config.width
        // residual2 = residual1 + dropout(fcProj): dResidual passes through, and into the branch
        let dFcProj = residualBackward(g.dResidual, mask: a.dropout?.fcProjMask, count: N * C)
        // fcProj = mlp(ln2)
        zero(g.dNormed, N * C)
        mlpBranchBackward(l, dFcProj, input: a.ln2, dInput: g.dNormed, a, rows: N)
        // ln2 = LN_2(residual1): now dResidual = dLoss/d(residual1)
        normBackward(dX: g.dResidual, dOut: g.dNormed, x: a.residual1, mean: a.ln2Mean, rstd: a.ln2Rstd,
                     weight: w.ln2Weight, bias: w.ln2Bias, rows: N)
        // residual1 = x + dropout(attnProj)
        let dAttnProj = residualBackward(g.dResidual, mask: a.dropout?.attnProjMask, count: N * C)
        // attnProj = attention(ln1)
        zero(g.dNormed, N * C)
        attentionBranchBackward(l, dAttnProj, input: a.ln1, dInput: g.dNormed, a, rows: N, layout: layout)
        // ln1 = LN_1(x): now dResidual = dLoss/dx
        normBackward(dX: g.dResidual, dOut: g.dNormed, x: x, mean: a.ln1Mean, rstd: a.ln1Rstd,
                     weight: w.ln1Weight, bias: w.ln1Bias, rows: N)
    }

    /// Backward of `attentionBranchForward`: adds into dInput (N, C) and the branch's weights.
    func attentionBranchBackward(_ l: Int, _ dAttnProj: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                 dInput: FloatPointer, _ a: BlockActivations, rows N: Int, layout: AttentionLayout) {
        let w = blocks[l], g = grads, C = config.width
        // attnProj = attnY·W_projᵀ + b
        zero(g.dAttnY, N * C)
        linearBackward(dX: g.dAttnY, dWeight: gradients + w.projWeight, dBias: gradient(w.projBias), dOut: dAttnProj,
                       x: a.attnY, transposedWeight: parameters + w.projWeight, rows: N, inFeatures: C, outFeatures: C)
        // attnY = attention(q, k, v), q|k|v the thirds of each qkv row
        zero(g.dQKV, N * 3 * C)
        let qkv = UnsafePointer(a.qkv)
        let dropout = a.dropout.flatMap { masks in lastTraining ? (UnsafePointer(masks.attnMask), UnsafePointer(masks.attnWeights)) : nil }
        attentionBackward(dQuery: g.dQKV, dKey: g.dQKV + C, dValue: g.dQKV + 2 * C, scratch: g.dScores, dOut: g.dAttnY,
                          probs: a.attnProbs, query: qkv, key: qkv + C, value: qkv + 2 * C, layout: layout,
                          mask: AttentionMask(causal: true), dropout: dropout)
        // qkv = input·W_attnᵀ + b
        linearBackward(dX: dInput, dWeight: gradients + w.attnWeight, dBias: gradient(w.attnBias), dOut: g.dQKV,
                       x: input, transposedWeight: parameters + w.attnWeight, rows: N, inFeatures: C, outFeatures: 3 * C)
    }

    /// Backward of `mlpBranchForward`: adds into dInput (N, C) and the branch's weights.
    func mlpBranchBackward(_ l: Int, _ dFcProj: UnsafePointer<Float>, input: UnsafePointer<Float>,
                           dInput: FloatPointer, _ a: BlockActivations, rows N: Int) {
        let w = blocks[l], g = grads, C = config.width
        // fcProj = fcAct·W_fcprojᵀ + b
        zero(g.dFcAct, N * 4 * C)
        linearBackward(dX: g.dFcAct, dWeight: gradients + w.fcProjWeight, dBias: gradient(w.fcProjBias), dOut: dFcProj,
                       x: a.fcAct, transposedWeight: parameters + w.fcProjWeight, rows: N, inFeatures: 4 * C, outFeatures: C)
        // fcAct = act(fcPre)
        zero(g.dFcPre, N * 4 * C)
        activationBackward(dX: g.dFcPre, dOut: g.dFcAct, x: a.fcPre, count: N * 4 * C)
        // fcPre = input·W_fcᵀ + b
        linearBackward(dX: dInput, dWeight: gradients + w.fcWeight, dBias: gradient(w.fcBias), dOut: g.dFcPre,
                       x: input, transposedWeight: parameters + w.fcWeight, rows: N, inFeatures: C, outFeatures: 4 * C)
    }

    /// Backward of `residualForward` (out = base + dropout(branch)) into the branch: dOut itself,
    /// or dOut ⊙ mask (in grads.dBranch) when the forward dropped. The base's share is dOut
    /// unchanged, so the caller's dResidual already holds it.
    func residualBackward(_ dOut: UnsafePointer<Float>, mask: FloatPointer?, count n: Int) -> UnsafePointer<Float> {
        guard lastTraining, let mask else { return dOut }
        zero(grads.dBranch, n)
        dropoutBackward(dX: grads.dBranch, dOut: dOut, mask: mask, count: n)
        return UnsafePointer(grads.dBranch)
    }

    /// The gradient of the parameter starting at `offset`, if the model has it.
    func gradient(_ offset: Int?) -> FloatPointer? { offset.map { gradients + $0 } }

    /// Block l's input: the embedding for block 0, else block l − 1's output.
    func blockInput(_ l: Int) -> UnsafePointer<Float> { l == 0 ? UnsafePointer(embedded) : blockOutput(l - 1) }

    /// Block l's output: residual2 (Pre-LN) or LN_2(residual2), kept in ln2 (Post-LN).
    func blockOutput(_ l: Int) -> UnsafePointer<Float> {
        UnsafePointer(config.preNorm ? blockActivations[l].residual2 : blockActivations[l].ln2)
    }
}

// MARK: - The variants: small pieces the straight path calls

extension GPT {
    /// LayerNorm (GPT-2) or RMSNorm, row by row: out = norm(x) ⊙ weight (+ bias).
    ///   out, x: (N, C)   mean, rstd: (N), kept for the backward (RMSNorm leaves mean alone).
    func normForward(_ out: FloatPointer, mean: FloatPointer, rstd: FloatPointer, _ x: UnsafePointer<Float>,
                     weight: Int, bias: Int?, rows N: Int) {
        let C = config.width
        switch config.norm {
        case .layerNorm:
            layerNormForward(out, mean: mean, rstd: rstd, x, weight: parameters + weight,
                             bias: parameter(bias) ?? UnsafePointer(noBias), rows: N, cols: C)
        case .rmsNorm:
            rmsNormForward(out, rstd: rstd, x, weight: parameters + weight, rows: N, cols: C)
        }
    }

    /// Backward of `normForward`: adds into dX and the norm's gain (and bias).
    func normBackward(dX: FloatPointer, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                      rstd: UnsafePointer<Float>, weight: Int, bias: Int?, rows N: Int) {
        let C = config.width
        switch config.norm {
        case .layerNorm:
            layerNormBackward(dX: dX, dWeight: gradients + weight, dBias: gradient(bias) ?? noBiasGradient, dOut: dOut,
                              x: x, weight: parameters + weight, mean: mean, rstd: rstd, rows: N, cols: C)
        case .rmsNorm:
            rmsNormBackward(dX: dX, dWeight: gradients + weight, dOut: dOut, x: x, weight: parameters + weight,
                            rstd: rstd, rows: N, cols: C)
        }
    }

    /// The MLP's nonlinearity: exact GELU (nanoGPT's nn.GELU()) or ReLU.   out, x: (n values).
    func activationForward(_ out: FloatPointer, _ x: UnsafePointer<Float>, count n: Int) {
        switch config.activation {
        case .gelu: geluErfForward(out, x, count: n)
        case .relu: reluForward(out, x, count: n)
        }
    }

    /// Backward of `activationForward`: adds into dX.
    func activationBackward(dX: FloatPointer, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, count n: Int) {
        switch config.activation {
        case .gelu: geluErfBackward(dX: dX, dOut: dOut, x: x, count: n)
        case .relu: reluBackward(dX: dX, dOut: dOut, x: x, count: n)
        }
    }

    /// The 2017 Transformer's block (Post-LN): the same branches, each followed by its norm.
    ///   residual1 = x + dropout(attention(x))     ln1 = LN_1(residual1)
    ///   residual2 = ln1 + dropout(mlp(ln1))       ln2 = LN_2(residual2), the output
    func postNormBlockForward(_ l: Int, _ x: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int,
                              layout: AttentionLayout, cache: KVCacheRows?, training: Bool,
                              rng: inout SplitMix64) -> UnsafePointer<Float> {
        let w = blocks[l], C = config.width, drop = training ? a.dropout : nil
        attentionBranchForward(l, x, a, rows: N, layout: layout, cache: cache, training: training, rng: &rng)
        residualForward(a.residual1, x, a.attnProj, mask: drop?.attnProjMask, count: N * C, rng: &rng)
        normForward(a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, a.residual1, weight: w.ln1Weight, bias: w.ln1Bias, rows: N)
        mlpBranchForward(l, a.ln1, a, rows: N)
        residualForward(a.residual2, a.ln1, a.fcProj, mask: drop?.fcProjMask, count: N * C, rng: &rng)
        normForward(a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, a.residual2, weight: w.ln2Weight, bias: w.ln2Bias, rows: N)
        return UnsafePointer(a.ln2)
    }

    /// Backward of `postNormBlockForward`; dResidual as in `blockBackward`. The residual sums sit
    /// under a norm, so their gradients are gathered in dSum before they reach dResidual.
    func postNormBlockBackward(_ l: Int, x: UnsafePointer<Float>, _ a: BlockActivations, rows N: Int,
                               layout: AttentionLayout) {
        let w = blocks[l], g = grads, C = config.width
        // ln2 = LN_2(residual2)
        zero(g.dSum, N * C)
        normBackward(dX: g.dSum, dOut: g.dResidual, x: a.residual2, mean: a.ln2Mean, rstd: a.ln2Rstd,
                     weight: w.ln2Weight, bias: w.ln2Bias, rows: N)
        // residual2 = ln1 + dropout(mlp(ln1)): dLn1 = dSum + mlpᵀ(dSum), gathered in dResidual
        g.dResidual.update(from: g.dSum, count: N * C)
        let dFcProj = residualBackward(g.dSum, mask: a.dropout?.fcProjMask, count: N * C)
        mlpBranchBackward(l, dFcProj, input: a.ln1, dInput: g.dResidual, a, rows: N)
        // ln1 = LN_1(residual1)
        zero(g.dSum, N * C)
        normBackward(dX: g.dSum, dOut: g.dResidual, x: a.residual1, mean: a.ln1Mean, rstd: a.ln1Rstd,
                     weight: w.ln1Weight, bias: w.ln1Bias, rows: N)
        // residual1 = x + dropout(attention(x)): dx = dSum + attentionᵀ(dSum)
        g.dResidual.update(from: g.dSum, count: N * C)
        let dAttnProj = residualBackward(g.dSum, mask: a.dropout?.attnProjMask, count: N * C)
        attentionBranchBackward(l, dAttnProj, input: x, dInput: g.dResidual, a, rows: N, layout: layout)
    }
}

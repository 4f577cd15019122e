// The GPT of weeks 8-10, in llm.c's style: one parameter arena [matrices | gains and biases]
// with nanoGPT's names as views into it, one gradient arena of the same layout, and one
// activation arena for (layers, B, T, ·), all allocated once; a training step allocates nothing.
// The forward and backward passes walk the block's pieces (GPTLayers.swift) in order and in
// reverse. Week 8 trains it; weeks 9-10 sample from it and fine-tune it.
// References: Radford et al., GPT-2 (2019); nanoGPT model.py; llm.c train_gpt2.c.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// A GPT: its configuration, parameters, gradients and activations.
public final class GPT {
    public let config: GPTConfig
    /// Largest batch and length the activation arena holds.
    public let maxBatch: Int
    public var maxLength: Int { config.context }

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

    // Offsets into the parameter arena (-1: this configuration has no such tensor).
    struct BlockOffsets {
        var ln1Weight = -1, ln1Bias = -1, attnWeight = -1, attnBias = -1, projWeight = -1, projBias = -1
        var ln2Weight = -1, ln2Bias = -1, fcWeight = -1, fcBias = -1, fcProjWeight = -1, fcProjBias = -1
    }
    let tokenEmbedding: Int, positionEmbedding: Int, headWeight: Int, lnfWeight: Int, lnfBias: Int
    let blocks: [BlockOffsets]

    // The activation arena and what lives in it.
    let activations: FloatPointer
    let activationCount: Int
    /// Per block, the forward's saved values, each sized for maxBatch·T rows.
    struct BlockActivations {
        let ln1, ln1Mean, ln1Rstd, qkv, probs, attnY, sum1, ln2, ln2Mean, ln2Rstd, fcPre, fcAct, sum2: FloatPointer
        /// Dropout masks and the dropped attention weights (nil when dropout is 0).
        let attnWeights, attnMask, projMask, fcProjMask: FloatPointer?
    }
    let blockActivations: [BlockActivations]
    let embedded: FloatPointer, embeddingMask: FloatPointer?, positionTable: FloatPointer?
    let lnf: FloatPointer, lnfMean: FloatPointer, lnfRstd: FloatPointer
    /// (C) zeros: the bias of a norm in a model without biases; and where its gradient goes.
    let zeroBias: FloatPointer, unusedBiasGradient: FloatPointer
    /// (N, V) logits of the last forward pass.
    public let logits: FloatPointer
    /// (N, V) probabilities after a forward with targets, then dLogits after backward.
    let probs: FloatPointer
    let losses: FloatPointer
    // Backward scratch, shared by all blocks.
    let dResidual, dNormed, dSum, dQKV, dAttnY, dAttnScratch, dHidden, dHiddenPre, dBranch, dLnf: FloatPointer

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
        let V = config.vocabularySize, T = config.context, C = config.width, L = config.layers
        let hasBias = config.bias, normBias = config.bias && config.norm == .layerNorm

        // 1. The parameter layout: matrices, then vectors.
        var views: [GPTTensorView] = []
        var cursor = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            views.append(GPTTensorView(name: name, offset: cursor, shape: shape))
            cursor += shape.reduce(1, *)
            return cursor - shape.reduce(1, *)
        }
        tokenEmbedding = add("wte.weight", [V, C])
        positionEmbedding = config.positions == .learned ? add("wpe.weight", [T, C]) : -1
        var blocks = [BlockOffsets](repeating: BlockOffsets(), count: L)
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
        lnfBias = normBias ? add("ln_f.bias", [C]) : -1
        self.blocks = blocks
        self.views = views
        parameterCount = cursor
        parameters = .allocate(capacity: cursor)
        gradients = .allocate(capacity: cursor)
        parameters.initialize(repeating: 0, count: cursor)
        gradients.initialize(repeating: 0, count: cursor)

        // 2. The activation arena: carve every buffer out of one allocation.
        let N = maxBatch * T, H = config.heads
        let dropout = config.dropout > 0
        var sizes: [Int] = []
        func reserve(_ count: Int) -> Int { sizes.append(count); return sizes.count - 1 }
        var blockSlots: [[Int]] = []
        for _ in 0..<L {
            var slots = [N * C, N, N, N * 3 * C, maxBatch * H * T * T, N * C, N * C, N * C, N, N,
                         N * 4 * C, N * 4 * C, N * C].map(reserve)
            if dropout { slots += [maxBatch * H * T * T, maxBatch * H * T * T, N * C, N * C].map(reserve) }
            blockSlots.append(slots)
        }
        let embeddedSlot = reserve(N * C)
        let embeddingMaskSlot = dropout ? reserve(N * C) : -1
        let positionSlot = config.positions == .sinusoidal ? reserve(T * C) : -1
        let lnfSlots = [N * C, N, N].map(reserve)
        let noBiasSlots = [C, C].map(reserve)
        let logitSlots = [N * V, N * V, N].map(reserve)
        let scratchSlots = [N * C, N * C, N * C, N * 3 * C, N * C, maxBatch * H * T * T, N * 4 * C, N * 4 * C,
                            N * C, N * C].map(reserve)
        // each buffer starts on a 64-byte boundary (16 floats), so vector loads line up
        var starts: [Int] = []
        var total = 0
        for size in sizes { starts.append(total); total += (size + 15) / 16 * 16 }
        activationCount = total
        activations = .allocate(capacity: total)
        activations.initialize(repeating: 0, count: total)
        let base = activations
        func slot(_ index: Int) -> FloatPointer { base + starts[index] }
        blockActivations = blockSlots.map { s in
            BlockActivations(ln1: slot(s[0]), ln1Mean: slot(s[1]), ln1Rstd: slot(s[2]), qkv: slot(s[3]),
                             probs: slot(s[4]), attnY: slot(s[5]), sum1: slot(s[6]), ln2: slot(s[7]),
                             ln2Mean: slot(s[8]), ln2Rstd: slot(s[9]), fcPre: slot(s[10]), fcAct: slot(s[11]),
                             sum2: slot(s[12]),
                             attnWeights: dropout ? slot(s[13]) : nil, attnMask: dropout ? slot(s[14]) : nil,
                             projMask: dropout ? slot(s[15]) : nil, fcProjMask: dropout ? slot(s[16]) : nil)
        }
        embedded = slot(embeddedSlot)
        embeddingMask = dropout ? slot(embeddingMaskSlot) : nil
        positionTable = positionSlot >= 0 ? slot(positionSlot) : nil
        (lnf, lnfMean, lnfRstd) = (slot(lnfSlots[0]), slot(lnfSlots[1]), slot(lnfSlots[2]))
        (zeroBias, unusedBiasGradient) = (slot(noBiasSlots[0]), slot(noBiasSlots[1]))
        (logits, probs, losses) = (slot(logitSlots[0]), slot(logitSlots[1]), slot(logitSlots[2]))
        (dResidual, dNormed, dSum, dQKV, dAttnY) = (slot(scratchSlots[0]), slot(scratchSlots[1]),
                                                    slot(scratchSlots[2]), slot(scratchSlots[3]), slot(scratchSlots[4]))
        (dAttnScratch, dHidden, dHiddenPre, dBranch, dLnf) = (slot(scratchSlots[5]), slot(scratchSlots[6]),
                                                              slot(scratchSlots[7]), slot(scratchSlots[8]),
                                                              slot(scratchSlots[9]))
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
        activations.deallocate()
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
    /// Shapes, with N = B·T rows:
    ///   x = wte[ids] + wpe[0..<T]                              (N, C)
    ///   per block (Pre-LN):  a = LN1(x)  qkv = a·W_attnᵀ (N, 3C)  y = attention(qkv) (N, C)
    ///                        s1 = x + y·W_projᵀ   m = LN2(s1)  h = act(m·W_fcᵀ) (N, 4C)
    ///                        x = s1 + h·W_fcprojᵀ                         (N, C)
    ///            (Post-LN):  s1 = x + attn(x)   a = LN1(s1)   s2 = a + mlp(a)   x = LN2(s2)
    ///   logits = LN_f(x)·W_headᵀ                               (N, V)
    @discardableResult
    public func forward(inputs: [Int], targets: [Int]?, batch B: Int, length T: Int, training: Bool = false,
                        rng: inout SplitMix64) -> Double? {
        precondition(B >= 1 && B <= maxBatch && T >= 1 && T <= config.context,
                     "GPT.forward: batch \(B) x length \(T) exceeds \(maxBatch) x \(config.context)")
        precondition(inputs.count == B * T && (targets?.count ?? B * T) == B * T, "GPT.forward: ids are not B x T")
        let V = config.vocabularySize, C = config.width, H = config.heads, N = B * T
        precondition(inputs.allSatisfy { $0 >= 0 && $0 < V }, "GPT.forward: a token id is outside 0..<\(V)")
        lastInputs = inputs
        lastTargets = targets ?? []
        lastBatch = B
        lastLength = T
        let dropout = training && config.dropout > 0
        lastTraining = dropout
        let p = parameters
        func param(_ offset: Int) -> UnsafePointer<Float>? { offset >= 0 ? UnsafePointer(p + offset) : nil }
        func normBias(_ offset: Int) -> UnsafePointer<Float> { offset >= 0 ? UnsafePointer(p + offset) : UnsafePointer(zeroBias) }
        let rms = config.norm == .rmsNorm, relu = config.activation == .relu

        // 1. Embedding: token rows plus position rows.
        for n in 0..<N { embed(token: inputs[n], position: n % T, into: embedded + n * C) }
        if dropout, let mask = embeddingMask {
            gptDropoutMask(mask, count: N * C, probability: config.dropout, rng: &rng)
            gptApplyMask(embedded, mask: mask, count: N * C)
        }

        // 2. The blocks.
        var x = UnsafePointer(embedded)
        for (o, a) in zip(blocks, blockActivations) {
            // The residual branch y = f(input) added to `base`: out = base + y (dropout on y).
            func residualLinear(_ out: FloatPointer, base: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                weight: Int, bias: Int, inFeatures: Int, mask: FloatPointer?) {
                if dropout, let mask {
                    gptLinearForward(dBranch, input, weight: p + weight, bias: param(bias),
                                     rows: N, inFeatures: inFeatures, outFeatures: C)
                    gptDropoutMask(mask, count: N * C, probability: config.dropout, rng: &rng)
                    for i in 0..<(N * C) { out[i] = base[i] + dBranch[i] * mask[i] }
                } else {
                    out.update(from: base, count: N * C)
                    gptLinearForward(out, input, weight: p + weight, bias: param(bias),
                                     rows: N, inFeatures: inFeatures, outFeatures: C, accumulate: true)
                }
            }
            // attention, reading `attnIn`, into sum1 = x + attn
            let attnIn: UnsafePointer<Float>
            if config.preNorm {
                gptNormForward(a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, x, weight: p + o.ln1Weight,
                               bias: normBias(o.ln1Bias), rms: rms, rows: N, cols: C)
                attnIn = UnsafePointer(a.ln1)
            } else {
                attnIn = x
            }
            gptLinearForward(a.qkv, attnIn, weight: p + o.attnWeight, bias: param(o.attnBias),
                             rows: N, inFeatures: C, outFeatures: 3 * C)
            if dropout, let mask = a.attnMask {
                gptDropoutMask(mask, count: B * H * T * T, probability: config.dropout, rng: &rng)
            }
            gptAttentionForward(a.attnY, probs: a.probs, qkv: a.qkv, weights: dropout ? a.attnWeights : nil,
                                mask: dropout ? a.attnMask : nil, batch: B, length: T, width: C, heads: H)
            residualLinear(a.sum1, base: x, input: a.attnY, weight: o.projWeight, bias: o.projBias,
                           inFeatures: C, mask: a.projMask)
            // the MLP, reading `mlpIn`, into sum2 = mlpBase + mlp
            let mlpIn: UnsafePointer<Float>
            if config.preNorm {
                gptNormForward(a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, a.sum1, weight: p + o.ln2Weight,
                               bias: normBias(o.ln2Bias), rms: rms, rows: N, cols: C)
                mlpIn = UnsafePointer(a.ln2)
            } else {
                gptNormForward(a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, a.sum1, weight: p + o.ln1Weight,
                               bias: normBias(o.ln1Bias), rms: rms, rows: N, cols: C)
                mlpIn = UnsafePointer(a.ln1)
            }
            gptLinearForward(a.fcPre, mlpIn, weight: p + o.fcWeight, bias: param(o.fcBias),
                             rows: N, inFeatures: C, outFeatures: 4 * C)
            gptActivationForward(a.fcAct, a.fcPre, count: N * 4 * C, relu: relu)
            residualLinear(a.sum2, base: config.preNorm ? UnsafePointer(a.sum1) : mlpIn, input: a.fcAct,
                           weight: o.fcProjWeight, bias: o.fcProjBias, inFeatures: 4 * C, mask: a.fcProjMask)
            if config.preNorm {
                x = UnsafePointer(a.sum2)
            } else {
                gptNormForward(a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, a.sum2, weight: p + o.ln2Weight,
                               bias: normBias(o.ln2Bias), rms: rms, rows: N, cols: C)
                x = UnsafePointer(a.ln2)
            }
        }

        // 3. Final norm and the head (tied: the token embedding matrix again, read as Wᵀ).
        gptNormForward(lnf, mean: lnfMean, rstd: lnfRstd, x, weight: p + lnfWeight, bias: normBias(lnfBias),
                       rms: rms, rows: N, cols: C)
        gptLinearForward(logits, lnf, weight: p + headWeight, bias: nil, rows: N, inFeatures: C, outFeatures: V)
        guard let targets else { return nil }
        precondition(targets.allSatisfy { $0 >= 0 && $0 < V }, "GPT.forward: a target id is outside 0..<\(V)")
        return targets.withUnsafeBufferPointer { t in
            gptCrossEntropyForward(probs: probs, losses: losses, logits: logits, targets: t.baseAddress!,
                                   rows: N, vocabulary: V)
        }
    }

    /// x = wte[token] + wpe[position] (or the sinusoidal table's row, or no position at all):
    /// the (C) row the blocks start from. The forward pass and cached decoding both embed so.
    func embed(token: Int, position t: Int, into x: FloatPointer) {
        let C = config.width, row = parameters + tokenEmbedding + token * C
        let position: UnsafePointer<Float>? = positionEmbedding >= 0 ? UnsafePointer(parameters + positionEmbedding + t * C)
            : positionTable.map { UnsafePointer($0 + t * C) }
        if let position { for c in 0..<C { x[c] = row[c] + position[c] } } else { x.update(from: row, count: C) }
    }

    /// The output of block `l`'s input side: x for block 0 is the embedding, else the
    /// previous block's output.
    private func blockInput(_ l: Int) -> UnsafePointer<Float> {
        if l == 0 { return UnsafePointer(embedded) }
        let previous = blockActivations[l - 1]
        return UnsafePointer(config.preNorm ? previous.sum2 : previous.ln2)
    }

    // MARK: - Backward

    /// Backward of lossScale × the mean loss of the last `forward` (which must have had
    /// targets): adds lossScale·dLoss/dθ into `gradients`. Walks the forward in reverse; each step names the forward
    /// line it differentiates. Residual connections pass their gradient through unchanged and
    /// add the branch's; the tied matrix gathers the head's and the embedding's gradients.
    public func backward(lossScale: Float = 1) {
        precondition(!lastTargets.isEmpty, "GPT.backward: the last forward had no targets")
        let B = lastBatch, T = lastLength, N = B * T
        let V = config.vocabularySize, C = config.width, H = config.heads
        let p = parameters, g = gradients
        func param(_ offset: Int) -> UnsafePointer<Float>? { offset >= 0 ? UnsafePointer(p + offset) : nil }
        func grad(_ offset: Int) -> FloatPointer? { offset >= 0 ? g + offset : nil }
        func normBiasGradient(_ offset: Int) -> FloatPointer { offset >= 0 ? g + offset : unusedBiasGradient }
        let rms = config.norm == .rmsNorm, relu = config.activation == .relu
        let training = lastTraining

        // 3. logits = LN_f(x)·W_headᵀ, loss = mean cross-entropy
        lastTargets.withUnsafeBufferPointer { t in
            gptCrossEntropyBackward(probsToGradient: probs, targets: t.baseAddress!, rows: N, vocabulary: V,
                                    lossScale: lossScale)
        }
        gptLinearBackward(dX: dLnf, dWeight: g + headWeight, dBias: nil, dOut: probs, x: lnf, weight: p + headWeight,
                          rows: N, inFeatures: C, outFeatures: V, accumulateDX: false)
        dResidual.update(repeating: 0, count: N * C)
        let lastOutput = blockInput(config.layers)
        gptNormBackward(dX: dResidual, dWeight: g + lnfWeight, dBias: normBiasGradient(lnfBias), dOut: dLnf, x: lastOutput,
                        weight: p + lnfWeight, mean: lnfMean, rstd: lnfRstd, rms: rms, rows: N, cols: C)

        // 2. The blocks, last first. On entry dResidual = dLoss/d(block output).
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let o = blocks[l], a = blockActivations[l], x = blockInput(l)
            // The residual branch out = base + dropout(y), y = input·Wᵀ + b: the branch's
            // gradient dOut ⊙ mask flows into W, b (added) and dInput (overwritten).
            func residualLinearBackward(dInput: FloatPointer, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                        weight: Int, bias: Int, inFeatures: Int, mask: FloatPointer?) {
                var dBranchOut = dOut
                if training, let mask {
                    for i in 0..<(N * C) { dBranch[i] = dOut[i] * mask[i] }
                    dBranchOut = UnsafePointer(dBranch)
                }
                gptLinearBackward(dX: dInput, dWeight: g + weight, dBias: grad(bias), dOut: dBranchOut, x: input,
                                  weight: p + weight, rows: N, inFeatures: inFeatures, outFeatures: C,
                                  accumulateDX: false)
            }
            // dMlpIn / dAttnIn: overwritten (addTo false) or added to (addTo true, when the
            // gradient of the branch's input already holds the residual path's share).
            func mlpBackward(dSum2: UnsafePointer<Float>, mlpIn: UnsafePointer<Float>, dMlpIn: FloatPointer, addTo: Bool) {
                // sum2 = base + h·W_fcprojᵀ: dh = dSum2·W_fcproj
                residualLinearBackward(dInput: dHidden, dOut: dSum2, input: a.fcAct, weight: o.fcProjWeight,
                                       bias: o.fcProjBias, inFeatures: 4 * C, mask: a.fcProjMask)
                // h = act(fcPre)
                gptActivationBackward(dX: dHiddenPre, dOut: dHidden, x: a.fcPre, count: N * 4 * C, relu: relu,
                                      accumulate: false)
                // fcPre = mlpIn·W_fcᵀ + b
                gptLinearBackward(dX: dMlpIn, dWeight: g + o.fcWeight, dBias: grad(o.fcBias), dOut: dHiddenPre,
                                  x: mlpIn, weight: p + o.fcWeight, rows: N, inFeatures: C, outFeatures: 4 * C,
                                  accumulateDX: addTo)
            }
            func attentionBackward(dSum1: UnsafePointer<Float>, attnIn: UnsafePointer<Float>, dAttnIn: FloatPointer,
                                   addTo: Bool) {
                // sum1 = x + y·W_projᵀ
                residualLinearBackward(dInput: dAttnY, dOut: dSum1, input: a.attnY, weight: o.projWeight,
                                       bias: o.projBias, inFeatures: C, mask: a.projMask)
                // y = attention(qkv), dQKV overwritten
                gptAttentionBackward(dQKV: dQKV, scratch: dAttnScratch, dY: dAttnY, qkv: a.qkv, probs: a.probs,
                                     weights: training ? a.attnWeights : nil, mask: training ? a.attnMask : nil,
                                     batch: B, length: T, width: C, heads: H)
                // qkv = attnIn·W_attnᵀ + b
                gptLinearBackward(dX: dAttnIn, dWeight: g + o.attnWeight, dBias: grad(o.attnBias), dOut: dQKV,
                                  x: attnIn, weight: p + o.attnWeight, rows: N, inFeatures: C, outFeatures: 3 * C,
                                  accumulateDX: addTo)
            }
            if config.preNorm {
                // x_out = sum2 = sum1 + mlp(LN2(sum1)): dSum1 = dSum2 + LN2ᵀ(mlpᵀ(dSum2))
                mlpBackward(dSum2: dResidual, mlpIn: a.ln2, dMlpIn: dNormed, addTo: false)
                gptNormBackward(dX: dResidual, dWeight: g + o.ln2Weight, dBias: normBiasGradient(o.ln2Bias), dOut: dNormed,
                                x: a.sum1, weight: p + o.ln2Weight, mean: a.ln2Mean, rstd: a.ln2Rstd,
                                rms: rms, rows: N, cols: C)
                // sum1 = x + attn(LN1(x)): dx = dSum1 + LN1ᵀ(attnᵀ(dSum1))
                attentionBackward(dSum1: dResidual, attnIn: a.ln1, dAttnIn: dNormed, addTo: false)
                gptNormBackward(dX: dResidual, dWeight: g + o.ln1Weight, dBias: normBiasGradient(o.ln1Bias), dOut: dNormed,
                                x: x, weight: p + o.ln1Weight, mean: a.ln1Mean, rstd: a.ln1Rstd,
                                rms: rms, rows: N, cols: C)
            } else {
                // x_out = LN2(sum2): dSum2 = LN2ᵀ(dOut)
                dSum.update(repeating: 0, count: N * C)
                gptNormBackward(dX: dSum, dWeight: g + o.ln2Weight, dBias: normBiasGradient(o.ln2Bias), dOut: dResidual,
                                x: a.sum2, weight: p + o.ln2Weight, mean: a.ln2Mean, rstd: a.ln2Rstd,
                                rms: rms, rows: N, cols: C)
                // sum2 = a + mlp(a), a = LN1(sum1): da = dSum2 + mlpᵀ(dSum2)
                dNormed.update(from: dSum, count: N * C)
                mlpBackward(dSum2: dSum, mlpIn: a.ln1, dMlpIn: dNormed, addTo: true)
                dSum.update(repeating: 0, count: N * C)
                gptNormBackward(dX: dSum, dWeight: g + o.ln1Weight, dBias: normBiasGradient(o.ln1Bias), dOut: dNormed,
                                x: a.sum1, weight: p + o.ln1Weight, mean: a.ln1Mean, rstd: a.ln1Rstd,
                                rms: rms, rows: N, cols: C)
                // sum1 = x + attn(x): dx = dSum1 + attnᵀ(dSum1)
                dResidual.update(from: dSum, count: N * C)
                attentionBackward(dSum1: dSum, attnIn: x, dAttnIn: dResidual, addTo: true)
            }
        }

        // 1. x = dropout(wte[ids] + wpe[t]): scatter-add the rows back
        if training, let mask = embeddingMask { gptApplyMask(dResidual, mask: mask, count: N * C) }
        for n in 0..<N {
            let dx = dResidual + n * C, dToken = g + tokenEmbedding + lastInputs[n] * C
            for c in 0..<C { dToken[c] += dx[c] }
            if positionEmbedding >= 0 {
                let dPosition = g + positionEmbedding + (n % T) * C
                for c in 0..<C { dPosition[c] += dx[c] }
            }
        }
    }
}

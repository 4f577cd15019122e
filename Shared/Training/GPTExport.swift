// Export to the Python ecosystem (week 9): a directory that Hugging Face transformers loads with
// `GPT2LMHeadModel.from_pretrained(DIR)`: config.json, model.safetensors in GPT-2's names and
// layout, and the character vocabulary as tokenizer.json (+ tokenizer_config.json, vocab.json).
// Week 10 exports its BPE model the same way. The format facts are checked against
// transformers 5.x; see https://huggingface.co/docs/transformers/model_doc/gpt2.
import SharedKernels
import SharedTools
import SharedData
import SharedNN

/// What `exportHuggingFaceGPT2` wrote.
public struct HuggingFaceExport {
    /// Every file, in the order written.
    public var files: [String]
    /// The tensors of model.safetensors by GPT-2 name, with GPT-2's shapes.
    public var tensors: [NamedTensor]
    /// config.json's content.
    public var config: JSONValue
}

extension GPT {
    /// The one line saying why GPT-2 cannot represent this model, or nil when it can.
    /// GPT-2 is a Pre-LN LayerNorm transformer with learned positions and a GELU-family or
    /// ReLU MLP (transformers' ACT2FN has "gelu", exact, and "relu"). What we can map exactly:
    /// no biases (zeros), an untied head (lm_head.weight), sinusoidal or no positions (the fixed
    /// table, or zeros, baked into wpe). What we cannot: RMSNorm (GPT-2's LayerNorm always
    /// centres) and Post-LN (GPT-2's block order is fixed).
    public var huggingFaceGPT2Problem: String? {
        if config.norm == .rmsNorm {
            return "cannot export to GPT-2: this model uses RMSNorm, and GPT-2 has only LayerNorm (train with --norm layernorm)"
        }
        if !config.preNorm {
            return "cannot export to GPT-2: this model is Post-LN, and GPT-2's blocks are Pre-LN (train with --norm-position pre)"
        }
        return nil
    }

    /// GPT-2's tensors for this model: "transformer.wte.weight" (V, C), "transformer.wpe.weight"
    /// (T, C), per block i "transformer.h.i.ln_1.weight|bias" (C), "….attn.c_attn.weight" (C, 3C)
    /// and ".bias" (3C), "….attn.c_proj.weight" (C, C) and ".bias" (C), "….ln_2.weight|bias" (C),
    /// "….mlp.c_fc.weight" (C, 4C) and ".bias" (4C), "….mlp.c_proj.weight" (4C, C) and ".bias"
    /// (C), "transformer.ln_f.weight|bias" (C), and "lm_head.weight" (V, C) only when untied.
    /// GPT-2's Conv1D computes y = x·W + b with W stored (in, out): the transpose of our (out, in)
    /// matrices, so every block matrix is transposed. Absent biases are written as zeros.
    public func huggingFaceGPT2Tensors() throws -> [NamedTensor] {
        if let problem = huggingFaceGPT2Problem { throw WorkbookError(problem) }
        let V = config.vocabularySize, T = config.context, C = config.width
        func ours(_ name: String) -> [Float] { tensor(name)! }
        func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
        /// (rows, cols) row-major -> (cols, rows).
        func transposed(_ name: String) -> (values: [Float], shape: [Int]) {
            let view = view(name)!
            let rows = view.shape[0], cols = view.shape[1]
            let a = ours(name)
            var out = zeros(rows * cols)
            for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = a[r * cols + c] } }
            return (out, [cols, rows])
        }
        func optional(_ name: String, count: Int) -> [Float] { tensor(name) ?? zeros(count) }

        var tensors: [NamedTensor] = []
        func add(_ name: String, _ shape: [Int], _ data: [Float]) { tensors.append(NamedTensor(name: name, shape: shape, data: data)) }
        add("transformer.wte.weight", [V, C], ours("wte.weight"))
        // positions: learned as they are; sinusoidal as the fixed table; none as zeros
        let positions: [Float]
        switch config.positions {
        case .learned: positions = ours("wpe.weight")
        case .sinusoidal: positions = sinusoidalPositions(length: T, width: C)
        case .none: positions = zeros(T * C)
        }
        add("transformer.wpe.weight", [T, C], positions)
        for l in 0..<config.layers {
            let ourPrefix = "h.\(l).", hf = "transformer.h.\(l)."
            add(hf + "ln_1.weight", [C], ours(ourPrefix + "ln_1.weight"))
            add(hf + "ln_1.bias", [C], optional(ourPrefix + "ln_1.bias", count: C))
            for (module, outFeatures) in [("attn.c_attn", 3 * C), ("attn.c_proj", C), ("mlp.c_fc", 4 * C), ("mlp.c_proj", C)] {
                let (values, shape) = transposed(ourPrefix + module + ".weight")
                add(hf + module + ".weight", shape, values)
                add(hf + module + ".bias", [outFeatures], optional(ourPrefix + module + ".bias", count: outFeatures))
            }
            add(hf + "ln_2.weight", [C], ours(ourPrefix + "ln_2.weight"))
            add(hf + "ln_2.bias", [C], optional(ourPrefix + "ln_2.bias", count: C))
        }
        add("transformer.ln_f.weight", [C], ours("ln_f.weight"))
        add("transformer.ln_f.bias", [C], optional("ln_f.bias", count: C))
        if !config.tiedHead { add("lm_head.weight", [V, C], ours("lm_head.weight")) }
        return tensors
    }

    /// config.json for GPT2LMHeadModel: every field written (INTEROP facts): the exact-erf "gelu"
    /// (or "relu") as our MLP computes, LayerNorm ε 1e-5 as our LayerNorm kernel uses, dropouts 0,
    /// no BOS/EOS token (a character vocabulary has none; left out they default to 50256).
    public var huggingFaceGPT2Config: JSONValue {
        [
            "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
            "vocab_size": JSONValue(config.vocabularySize), "n_positions": JSONValue(config.context),
            "n_embd": JSONValue(config.width), "n_layer": JSONValue(config.layers), "n_head": JSONValue(config.heads),
            "n_inner": nil,
            "activation_function": JSONValue(config.activation == .relu ? "relu" : "gelu"),
            "layer_norm_epsilon": 1e-5,
            "tie_word_embeddings": JSONValue(config.tiedHead),
            "bos_token_id": nil, "eos_token_id": nil,
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
            "scale_attn_weights": true, "scale_attn_by_inverse_layer_idx": false, "reorder_and_upcast_attn": false,
            "initializer_range": 0.02, "use_cache": true, "dtype": "float32",
        ]
    }
}

/// tokenizer.json for a character vocabulary (tokenizers' format): a BPE model with no merges
/// whose vocabulary is character → id, no normalizer or pre-tokenizer, and the Fuse decoder
/// (without it decode puts a space between tokens). A character outside the vocabulary is
/// silently dropped by tokenizers, so our tool is the one that reports it.
public func huggingFaceCharacterTokenizerJSON(_ vocabulary: CharVocabulary) -> String {
    let entries = vocabulary.characters.enumerated().map { id, scalar in
        "      \(JSONValue.quote(String(Character(scalar)))): \(id)"
    }.joined(separator: ",\n")
    return """
    {
      "version": "1.0",
      "truncation": null,
      "padding": null,
      "added_tokens": [],
      "normalizer": null,
      "pre_tokenizer": null,
      "post_processor": null,
      "decoder": {"type": "Fuse"},
      "model": {
        "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
        "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
        "vocab": {
    \(entries)
        },
        "merges": []
      }
    }

    """
}

/// Writes `model` and its character vocabulary to `directory` as a Hugging Face GPT-2 model:
///   config.json              GPT2Config, every field
///   model.safetensors        F32 tensors in GPT-2's names and Conv1D layout (metadata "format": "pt")
///   tokenizer.json           the character vocabulary (tokenizers' BPE model, no merges, Fuse decoder)
///   tokenizer_config.json    PreTrainedTokenizerFast, no clean-up of spaces, model_max_length T
///   vocab.json               character → id, for anyone who reads the vocabulary by hand
/// Throws one line, before writing anything, when GPT-2 cannot represent the model.
@discardableResult
public func exportHuggingFaceGPT2(_ model: GPT, vocabulary: CharVocabulary, to directory: String) throws -> HuggingFaceExport {
    guard vocabulary.size == model.config.vocabularySize else {
        throw WorkbookError("cannot export: the vocabulary has \(vocabulary.size) characters, the model \(model.config.vocabularySize) token ids")
    }
    let tensors = try model.huggingFaceGPT2Tensors()
    try createDirectories(directory)
    var files: [String] = []
    let config = model.huggingFaceGPT2Config
    let configPath = joinPath(directory, "config.json")
    try writeTextFile(config.serialized(pretty: true) + "\n", to: configPath)
    files.append(configPath)
    // our checkpoint writer, with the "format": "pt" that transformers asks of a safetensors file
    let weights = joinPath(directory, "model.safetensors")
    try Checkpoint.save(tensors, kind: "hf-gpt2", config: model.config.json.serialized(pretty: false), step: 0,
                        rngState: 0, extraMetadata: ["format": "pt"], to: weights)
    files.append(weights)
    let tokenizer = joinPath(directory, "tokenizer.json")
    try writeTextFile(huggingFaceCharacterTokenizerJSON(vocabulary), to: tokenizer)
    files.append(tokenizer)
    let tokenizerConfig: JSONValue = [
        "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": false,
        "model_max_length": JSONValue(model.config.context),
    ]
    let tokenizerConfigPath = joinPath(directory, "tokenizer_config.json")
    try writeTextFile(tokenizerConfig.serialized(pretty: true) + "\n", to: tokenizerConfigPath)
    files.append(tokenizerConfigPath)
    let vocab = JSONValue.object(Dictionary(uniqueKeysWithValues: vocabulary.characters.enumerated().map {
        (String(Character($0.element)), JSONValue($0.offset))
    }))
    let vocabPath = joinPath(directory, "vocab.json")
    try writeTextFile(vocab.serialized(pretty: true) + "\n", to: vocabPath)
    files.append(vocabPath)
    return HuggingFaceExport(files: files, tensors: tensors, config: config)
}

// The Hugging Face GPT-2 export (Shared/Training/GPTExport.swift), read back: tensor names and shapes
// exactly GPT-2's, every Conv1D matrix the transpose of ours, zero biases where we have none,
// positions baked into wpe, config.json and tokenizer.json; refused in one line where GPT-2
// cannot represent the model. (Loading in transformers: interop/check_hf_export.py, by hand.)
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN
@testable import Week09Sampling

@Suite struct Week09ExportTests {
    static let vocabulary = CharVocabulary(text: "abc de\nfgh!")   // 11 characters, as tinyGPT's V

    static func expectedNames(layers: Int, untied: Bool) -> Set<String> {
        var names: Set<String> = ["transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias"]
        for l in 0..<layers {
            for suffix in ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                           "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                           "mlp.c_proj.weight", "mlp.c_proj.bias"] {
                names.insert("transformer.h.\(l).\(suffix)")
            }
        }
        if untied { names.insert("lm_head.weight") }
        return names
    }

    @Test(arguments: [false, true])
    func exportedTensorsHaveGPT2NamesShapesAndTransposes(untied: Bool) throws {
        let model = try tinyGPT(seed: 61) { $0.bias = false; $0.tiedHead = !untied }
        let C = model.config.width, V = model.config.vocabularySize, T = model.config.context
        let folder = temporaryFolder("export")
        let export = try exportHuggingFaceGPT2(model, vocabulary: Self.vocabulary, to: folder)
        #expect(export.files.map { String($0.split(separator: "/").last!) }
                == ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json"])

        // read the file back with our safetensors reader
        let file = try Checkpoint.load(from: joinPath(folder, "model.safetensors"), expectingKind: "hf-gpt2")
        #expect(file.metadata["format"] == "pt")
        #expect(Set(file.tensors.keys) == Self.expectedNames(layers: 2, untied: untied))
        func shape(_ name: String) -> [Int] { file.tensors[name]!.shape }
        #expect(shape("transformer.wte.weight") == [V, C] && shape("transformer.wpe.weight") == [T, C])
        #expect(shape("transformer.h.1.attn.c_attn.weight") == [C, 3 * C] && shape("transformer.h.1.attn.c_attn.bias") == [3 * C])
        #expect(shape("transformer.h.1.attn.c_proj.weight") == [C, C])
        #expect(shape("transformer.h.1.mlp.c_fc.weight") == [C, 4 * C] && shape("transformer.h.1.mlp.c_fc.bias") == [4 * C])
        #expect(shape("transformer.h.1.mlp.c_proj.weight") == [4 * C, C])
        // Conv1D (in, out) = the transpose of our (out, in), checked element by element
        for l in 0..<2 {
            for (module, outFeatures, inFeatures) in [("attn.c_attn", 3 * C, C), ("attn.c_proj", C, C),
                                                      ("mlp.c_fc", 4 * C, C), ("mlp.c_proj", C, 4 * C)] {
                let ours = model.tensor("h.\(l).\(module).weight")!, theirs = file.tensors["transformer.h.\(l).\(module).weight"]!.data
                var same = true
                for o in 0..<outFeatures { for i in 0..<inFeatures where theirs[i * outFeatures + o] != ours[o * inFeatures + i] { same = false } }
                #expect(same, "\(module) of block \(l) is not our matrix transposed")
                #expect(file.tensors["transformer.h.\(l).\(module).bias"]!.data.allSatisfy { $0 == 0 })
            }
            #expect(file.tensors["transformer.h.\(l).ln_1.weight"]!.data == model.tensor("h.\(l).ln_1.weight")!)
            #expect(file.tensors["transformer.h.\(l).ln_2.bias"]!.data.allSatisfy { $0 == 0 })
        }
        #expect(file.tensors["transformer.wte.weight"]!.data == model.tensor("wte.weight")!)
        #expect(file.tensors["transformer.wpe.weight"]!.data == model.tensor("wpe.weight")!)
        #expect(file.tensors["transformer.ln_f.weight"]!.data == model.tensor("ln_f.weight")!)
        if untied { #expect(file.tensors["lm_head.weight"]!.data == model.tensor("lm_head.weight")!) }

        // config.json: GPT-2's fields, our epsilon and activation
        let config = try JSONValue.parse(readTextFile(joinPath(folder, "config.json")))
        #expect(config["model_type"]?.stringValue == "gpt2")
        #expect(config["architectures"]?.arrayValue?.first?.stringValue == "GPT2LMHeadModel")
        #expect(config["vocab_size"]?.intValue == V && config["n_positions"]?.intValue == T)
        #expect(config["n_embd"]?.intValue == C && config["n_layer"]?.intValue == 2 && config["n_head"]?.intValue == 2)
        #expect(config["activation_function"]?.stringValue == "gelu")   // exact erf, as ours
        #expect(config["layer_norm_epsilon"]?.doubleValue == 1e-5)
        #expect(config["tie_word_embeddings"]?.boolValue == !untied)
        #expect(config["bos_token_id"] == .null && config["eos_token_id"] == .null)
        #expect(config["dtype"]?.stringValue == "float32")
        // tokenizer.json: character -> id, no merges, the Fuse decoder
        let tokenizer = try JSONValue.parse(readTextFile(joinPath(folder, "tokenizer.json")))
        #expect(tokenizer["decoder"]?["type"]?.stringValue == "Fuse")
        #expect(tokenizer["model"]?["merges"]?.arrayValue?.isEmpty == true)
        let vocab = tokenizer["model"]?["vocab"]?.objectValue ?? [:]
        #expect(vocab.count == V)
        for (id, scalar) in Self.vocabulary.characters.enumerated() { #expect(vocab[String(Character(scalar))]?.intValue == id) }
        let tokenizerConfig = try JSONValue.parse(readTextFile(joinPath(folder, "tokenizer_config.json")))
        #expect(tokenizerConfig["tokenizer_class"]?.stringValue == "PreTrainedTokenizerFast")
    }

    @Test func positionsThatAreNotLearnedAreBakedIntoWPE() throws {
        let sinusoidal = try tinyGPT(seed: 62) { $0.positions = .sinusoidal }
        let tensors = try sinusoidal.huggingFaceGPT2Tensors()
        let wpe = tensors.first { $0.name == "transformer.wpe.weight" }!
        var table = [Float](repeating: 0, count: 8 * 16)
        table.withUnsafeMutableBufferPointer { sinusoidalPositions($0.baseAddress!, length: 8, width: 16) }
        #expect(wpe.data == table)
        let none = try tinyGPT(seed: 63) { $0.positions = .none; $0.activation = .relu }
        #expect(try none.huggingFaceGPT2Tensors().first { $0.name == "transformer.wpe.weight" }!.data.allSatisfy { $0 == 0 })
        #expect(none.huggingFaceGPT2Config["activation_function"]?.stringValue == "relu")
    }

    @Test func modelsGPT2CannotRepresentAreRefusedInOneLine() throws {
        for (change, word) in [({ (c: inout GPTConfig) in c.norm = .rmsNorm }, "RMSNorm"),
                               ({ (c: inout GPTConfig) in c.preNorm = false }, "Post-LN")] {
            let model = try tinyGPT(seed: 64, change: change)
            let folder = joinPath(temporaryFolder("refuse"), "hf")
            do {
                try exportHuggingFaceGPT2(model, vocabulary: Self.vocabulary, to: folder)
                Issue.record("\(word) was exported")
            } catch let error as WorkbookError {
                #expect(error.message.contains(word) && !error.message.contains("\n"), "\(error.message)")
            }
            #expect(!week09FileExists(joinPath(folder, "config.json")))   // nothing written
        }
        // a vocabulary of another size is refused too
        let model = try tinyGPT(seed: 65)
        #expect(throws: WorkbookError.self) {
            try exportHuggingFaceGPT2(model, vocabulary: CharVocabulary(text: "abc"), to: temporaryFolder("vocab"))
        }
    }
}

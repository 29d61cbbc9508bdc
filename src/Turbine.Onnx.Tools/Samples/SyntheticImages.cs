namespace Turbine.Onnx.Tools.Samples;

/// <summary>
/// Images drawn in code for image models: a sky-to-ground gradient, a few filled circles and rectangles in random
/// colours, and sensor noise, in NCHW with ImageNet's per-channel mean and deviation taken off, as a ResNet expects
/// them. Not photographs: enough structure (edges, flat regions, colour) for calibration and for comparing a
/// quantized model with its original, and the same on every machine.
/// </summary>
public static class SyntheticImages
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Deviation = [0.229f, 0.224f, 0.225f];

    /// <summary><paramref name="count"/> images of 3 x <paramref name="size"/> x <paramref name="size"/>, one after the other.</summary>
    public static float[] Generate(int count, int size = 224, int seed = 23)
    {
        var random = new Random(seed);
        var plane = size * size;
        var images = new float[count * 3 * plane];
        var pixel = new float[3];
        for (var n = 0; n < count; n++)
        {
            var top = RandomColour(random);
            var bottom = RandomColour(random);
            var shapes = Enumerable.Range(0, random.Next(2, 7)).Select(_ => Shape.Random(random, size)).ToArray();
            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    var blend = (float)y / size;
                    for (var c = 0; c < 3; c++)
                    {
                        pixel[c] = (top[c] * (1 - blend)) + (bottom[c] * blend);
                    }

                    foreach (var shape in shapes.Where(s => s.Contains(x, y)))
                    {
                        shape.Colour.CopyTo(pixel, 0);
                    }

                    for (var c = 0; c < 3; c++)
                    {
                        var noisy = Math.Clamp(pixel[c] + (((float)random.NextDouble() - 0.5f) * 0.06f), 0f, 1f);
                        images[(((n * 3) + c) * plane) + (y * size) + x] = (noisy - Mean[c]) / Deviation[c];
                    }
                }
            }
        }

        return images;
    }

    private static float[] RandomColour(Random random) => [(float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()];

    private sealed record Shape(bool Round, int X, int Y, int Width, int Height, float[] Colour)
    {
        public static Shape Random(Random random, int size) => new(
            random.Next(2) == 0, random.Next(size), random.Next(size), random.Next(size / 10, size / 2), random.Next(size / 10, size / 2), RandomColour(random));

        public bool Contains(int x, int y)
        {
            if (!Round)
            {
                return x >= X && x < X + Width && y >= Y && y < Y + Height;
            }

            var dx = (x - X) / (double)Width;
            var dy = (y - Y) / (double)Height;
            return (dx * dx) + (dy * dy) <= 1;
        }
    }
}

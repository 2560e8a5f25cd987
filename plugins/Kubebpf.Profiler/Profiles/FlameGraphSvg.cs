using System.Globalization;
using System.Xml;

namespace Kubebpf.Profiler.Profiles;

/// <summary>
/// Writes a call tree as a self-contained SVG flame graph (root at the bottom, callees above, width proportional to
/// samples) that any browser opens; hovering a frame shows its name, samples and share. Frames narrower than
/// <see cref="MinWidth"/> pixels are left out (their samples still count in their callers' widths).
/// </summary>
internal static class FlameGraphSvg
{
    private const double Width = 1200;
    private const double Margin = 10;
    private const double FrameHeight = 16;
    private const double MinWidth = 0.1;
    private const double CharWidth = 6.6; // 11 px monospace-ish text

    public static void Write(FlameNode root, string title, TextWriter output)
    {
        var depth = Depth(root);
        var height = ((depth + 1) * FrameHeight) + 60;
        var scale = root.Value == 0 ? 0 : (Width - (2 * Margin)) / root.Value;
        using var xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = false, OmitXmlDeclaration = false });
        xml.WriteStartElement("svg", "http://www.w3.org/2000/svg");
        xml.WriteAttributeString("version", "1.1");
        xml.WriteAttributeString("width", Number(Width));
        xml.WriteAttributeString("height", Number(height));
        xml.WriteAttributeString("viewBox", $"0 0 {Number(Width)} {Number(height)}");
        xml.WriteAttributeString("font-family", "Verdana, sans-serif");
        xml.WriteAttributeString("font-size", "11");
        Element(xml, "rect", ("x", "0"), ("y", "0"), ("width", "100%"), ("height", "100%"), ("fill", "#f8f8f8"));
        xml.WriteStartElement("text");
        xml.WriteAttributeString("x", Number(Width / 2));
        xml.WriteAttributeString("y", "24");
        xml.WriteAttributeString("text-anchor", "middle");
        xml.WriteAttributeString("font-size", "16");
        xml.WriteString(title);
        xml.WriteEndElement();

        var pending = new Stack<(FlameNode Node, int Level, double X)>();
        pending.Push((root, 0, Margin));
        while (pending.Count > 0)
        {
            var (node, level, x) = pending.Pop();
            var width = node.Value * scale;
            if (width < MinWidth)
            {
                continue;
            }

            var y = height - 20 - ((level + 1) * FrameHeight);
            var share = root.Value == 0 ? 0 : 100.0 * node.Value / root.Value;
            xml.WriteStartElement("g");
            xml.WriteElementString("title", string.Create(CultureInfo.InvariantCulture, $"{node.Label} ({node.Value:N0} samples, {share:0.##}%)"));
            Element(xml, "rect", ("x", Number(x)), ("y", Number(y)), ("width", Number(width)), ("height", Number(FrameHeight - 1)),
                ("rx", "2"), ("fill", Colour(node.Label)));
            var fits = (int)((width - 6) / CharWidth);
            if (fits >= 3)
            {
                xml.WriteStartElement("text");
                xml.WriteAttributeString("x", Number(x + 3));
                xml.WriteAttributeString("y", Number(y + FrameHeight - 4.5));
                xml.WriteString(node.Label.Length <= fits ? node.Label : node.Label[..(fits - 2)] + "..");
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            var childX = x;
            var children = new List<(FlameNode, int, double)>();
            foreach (var child in node.Children)
            {
                children.Add((child, level + 1, childX));
                childX += child.Value * scale;
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }

        xml.WriteEndElement();
    }

    /// <summary>Writes the SVG to <paramref name="path"/> through a temporary file, so a reader never sees half of it.</summary>
    public static void WriteFile(FlameNode root, string title, string path)
    {
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary))
        {
            Write(root, title, writer);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static int Depth(FlameNode node)
    {
        var deepest = 0;
        var pending = new Stack<(FlameNode, int)>();
        pending.Push((node, 0));
        while (pending.Count > 0)
        {
            var (current, level) = pending.Pop();
            deepest = Math.Max(deepest, level);
            foreach (var child in current.Children)
            {
                pending.Push((child, level + 1));
            }
        }

        return deepest;
    }

    /// <summary>Warm colours as flamegraph.pl draws them; kernel frames (<c>_[k]</c>) orange; stable per name.</summary>
    private static string Colour(string label)
    {
        var hash = (uint)label.Aggregate(17, (h, c) => unchecked((h * 31) + c));
        var v = (hash % 1000) / 1000.0;
        return label.EndsWith("_[k]", StringComparison.Ordinal)
            ? $"rgb({220 + (int)(35 * v)},{140 + (int)(50 * v)},40)"
            : $"rgb({205 + (int)(50 * v)},{(int)(230 * v)},{(int)(55 * v)})";
    }

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static void Element(XmlWriter xml, string name, params (string Name, string Value)[] attributes)
    {
        xml.WriteStartElement(name);
        foreach (var (attribute, value) in attributes)
        {
            xml.WriteAttributeString(attribute, value);
        }

        xml.WriteEndElement();
    }
}

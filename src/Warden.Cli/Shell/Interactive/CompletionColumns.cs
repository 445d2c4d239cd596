namespace Warden.Cli.Shell.Interactive;

/// <summary>Lays candidates out in columns, down then across, as bash and ls do.</summary>
public static class CompletionColumns
{
    private const int Gap = 2;

    /// <summary>The rows to print. The last column is never written, so no terminal wraps a row by itself.</summary>
    public static IReadOnlyList<string> Layout(IReadOnlyList<string> items, int width)
    {
        if (items.Count == 0)
        {
            return [];
        }
        var cell = items.Max(i => i.Length) + Gap;
        var columns = Math.Max(1, (width - 1 + Gap) / cell);
        var rows = (items.Count + columns - 1) / columns;
        var lines = new List<string>(rows);
        for (var row = 0; row < rows; row++)
        {
            var line = new System.Text.StringBuilder();
            for (var column = 0; column < columns; column++)
            {
                var index = column * rows + row;
                if (index < items.Count)
                {
                    line.Append(items[index].PadRight(cell));
                }
            }
            lines.Add(line.ToString().TrimEnd());
        }
        return lines;
    }
}

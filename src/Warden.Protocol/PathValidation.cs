namespace Warden.Protocol;

/// <summary>
/// Znode path rules as Apache ZooKeeper enforces them (PathUtils.validatePath): an absolute path, no empty,
/// "." or ".." segment, no trailing slash except the root, and none of the control or reserved characters.
/// </summary>
public static class PathValidation
{
    /// <summary>Returns null when the path is valid, or the reason it is not.</summary>
    public static string? Validate(string? path, bool isSequential = false)
    {
        if (path is null) return "Path cannot be null";
        // A sequential create appends a counter, so a trailing slash is allowed there (the suffix follows it).
        if (isSequential) path += "1";
        if (path.Length == 0) return "Path length must be > 0";
        if (path[0] != '/') return "Path must start with / character";
        if (path.Length == 1) return null;
        if (path[^1] == '/') return "Path must not end with / character";

        char last = '/';
        for (int i = 1; i < path.Length; i++)
        {
            char c = path[i];
            if (c == 0) return $"null character not allowed @{i}";
            if (c == '/' && last == '/') return $"empty node name specified @{i}";
            if (c == '.' && last == '.' && path[i - 2] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                return $"relative paths not allowed @{i}";
            }
            if (c == '.' && path[i - 1] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                return $"relative paths not allowed @{i}";
            }
            if (c is > '\u0000' and <= '\u001f' or >= '\u007f' and <= '\u009f' or >= '\ud800' and <= '\uf8ff' or >= '\ufff0')
            {
                return $"invalid character @{i}";
            }
            last = c;
        }
        return null;
    }

    public static bool IsValid(string? path, bool isSequential = false) => Validate(path, isSequential) is null;

    /// <summary>The parent of an absolute path: "/" for a top-level node.</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>The last segment of a path.</summary>
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Join(string parent, string child) => parent == "/" ? "/" + child : parent + "/" + child;
}

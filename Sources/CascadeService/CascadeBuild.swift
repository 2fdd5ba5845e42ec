/// What this build of Cascade is, for `cascade --version` and `cascade_build_info`.
public enum CascadeBuild {
    public static let version = "0.11.0"
}

// `cls evaluate --probs DIR --labels DIR --epsilon E --alpha A [--splits R] [--cal-fraction F]
//  [--seed S] [--methods fixed,cls,crc,lesion-cls,pac,mondrian] [--delta D] [--mondrian RULE]
//  [--threshold T] [--empty-masks satisfied|exclude] [--memory-limit GIB] [--json OUT]
//  [--csv OUT] [--plots DIR]`
// `cls evaluate --probs DIR --labels DIR --paper-suite OUTDIR [--splits R] [--seed S] ...`
// Either form takes `--scores DIR` (case scores from `cls score`) for --probs and --labels, and
// `--roi none|nonzero|mask` with `--images DIR` or `--roi-masks DIR` (every map restricted to
// its region, as calibrate does; scores were restricted when they were made).
// Streams the labelled cases once into their sorted probabilities (refusing before the memory
// limit), then evaluates every method over R random calibration/test splits, or runs the
// paper's experiments and writes their tables and charts.
#include <cstdio>
#include <filesystem>

#include "arguments.hpp"
#include "case_loading.hpp"
#include "case_regions.hpp"
#include "cls/evaluation.hpp"
#include "cls/report/evaluation_plots.hpp"
#include "cls/report/evaluation_report.hpp"
#include "cls/report/paper_suite.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "score_loading.hpp"

namespace cls::cli {
namespace {

namespace fs = std::filesystem;

struct Options {
    EvaluationSettings settings;
    EmptyMaskPolicy empty_masks = EmptyMaskPolicy::satisfied;
    std::size_t memory_limit = kDefaultEvaluationMemoryLimit;
    unsigned threads = 1;
};

Result<std::size_t> count_option(const Arguments& args, const std::string& name,
                                 long long fallback) {
    if (!args.has(name)) return static_cast<std::size_t>(fallback);
    auto value = args.integer(name);
    if (!value) return value.error();
    if (*value < 1) return make_error("option " + name + " must be at least 1");
    return static_cast<std::size_t>(*value);
}

// Everything that can be checked before reading a single case, so that a typo costs nothing.
Result<Options> read_options(const Arguments& args, bool suite) {
    Options o;
    EvaluationSettings& s = o.settings;
    if (!suite) {
        CLS_TRY_ASSIGN(s.epsilon, args.number("--epsilon"));
        CLS_TRY_ASSIGN(s.alpha, args.number("--alpha"));
        CLS_TRY_ASSIGN(s.methods,
                       parse_evaluation_methods(args.text_or("--methods", "fixed,cls,crc")));
    }
    CLS_TRY_ASSIGN(o.threads, read_threads(args));
    CLS_TRY_ASSIGN(s.splits, count_option(args, "--splits", 100));
    CLS_TRY_ASSIGN(s.calibration_fraction, args.number_or("--cal-fraction", 0.5));
    if (args.has("--seed")) {
        auto seed = args.integer("--seed");
        if (!seed) return seed.error();
        if (*seed < 0) return make_error("option --seed must not be negative");
        s.seed = static_cast<std::uint64_t>(*seed);
    }
    CLS_TRY_ASSIGN(s.delta, args.number_or("--delta", 0.1));
    if (!(s.delta > 0.0 && s.delta < 1.0)) return make_error("option --delta must be in (0, 1)");
    CLS_TRY_ASSIGN(s.fixed_threshold, args.number_or("--threshold", 0.5));
    if (args.has("--mondrian")) {
        CLS_TRY_ASSIGN(s.mondrian, parse_mondrian_rule(*args.text("--mondrian")));
    }
    CLS_TRY_ASSIGN(o.empty_masks,
                   parse_empty_mask_policy(args.text_or("--empty-masks", "satisfied")));
    auto gib = args.number_or("--memory-limit", 4.0);
    if (!gib) return gib.error();
    if (!(*gib > 0.0 && *gib < 1e6)) return make_error("option --memory-limit must be in GiB, > 0");
    o.memory_limit = static_cast<std::size_t>(*gib * static_cast<double>(1u << 30));
    // Ranges now; what depends on the number of cases once they are read. A set of 2^30
    // cases stands in for "as many as it takes".
    const CalibrationSettings ranges{.method = Method::cls,
                                     .epsilon = s.epsilon,
                                     .alpha = s.alpha,
                                     .empty_masks = o.empty_masks,
                                     .fixed_threshold = s.fixed_threshold};
    if (Status valid = validate(ranges); !valid) return valid.error();
    if (!(s.calibration_fraction > 0.0 && s.calibration_fraction < 1.0)) {
        return make_error("option --cal-fraction must be in (0, 1)");
    }
    for (EvaluationMethod m : s.methods) {
        if (m == EvaluationMethod::mondrian && !s.mondrian) {
            return make_error(
                "the mondrian method needs --mondrian RULE, e.g. "
                "--mondrian predicted-voxels:500");
        }
    }
    return o;
}

Result<EvaluationSet> load_set(const RegionInputs& inputs, const std::string& probs,
                               const std::string& labels, const LesionDefinition& lesion,
                               const Options& options) {
    auto regions = CaseRegions::open(inputs);
    if (!regions) return regions.error();
    std::vector<EvaluationCase> cases;
    MemoryBudget budget(options.memory_limit);
    Status streamed = for_each_labelled_case<EvaluationCase>(
        {probs, labels}, lesion, "reading", options.threads,
        [&regions](LabelledCase& c) -> Result<EvaluationCase> {
            if (auto restricted =
                    regions->prepare(c.name, c.probabilities.image.volume, c.probabilities_path);
                !restricted) {
                return restricted.error();
            }
            return collect_evaluation_case(c.name, c.probabilities.image.volume,
                                           c.label.image.volume);
        },
        // The budget counts in name order, so the case it stops at does not depend on threads.
        [&](EvaluationCase& c) -> Status {
            if (Status fits = budget.add(c); !fits) {
                return make_error(fits.error().message + " (--memory-limit GIB)");
            }
            cases.push_back(std::move(c));
            return Done{};
        });
    if (!streamed) return streamed.error();
    return EvaluationSet::create(std::move(cases), options.empty_masks);
}

// The same set from case scores: every section of each, which holds exactly what
// collect_evaluation_case keeps of the volumes, so every number is the same.
Result<EvaluationSet> load_scored_set(const Arguments& args, const std::string& dir,
                                      const Options& options) {
    MemoryBudget budget(options.memory_limit);
    auto cohort =
        read_case_scores(dir, ScoreParts::evaluation, "reading", [&](const CaseScore& c) -> Status {
            if (Status fits = budget.add(c.scores); !fits) {
                return make_error(fits.error().message + " (--memory-limit GIB)");
            }
            return Done{};
        });
    if (!cohort) return cohort.error();
    if (auto lesion = scores_lesion_definition(args, cohort->lesion, dir); !lesion) {
        return lesion.error();
    }
    if (auto region = scores_region(args, cohort->region, dir); !region) return region.error();
    std::vector<EvaluationCase> cases;
    cases.reserve(cohort->cases.size());
    for (CaseScore& c : cohort->cases) cases.push_back(std::move(c.scores));
    return EvaluationSet::create(std::move(cases), options.empty_masks);
}

Status write_text(const fs::path& path, const std::string& text) {
    return io::write_file_atomic(path, {text.begin(), text.end()});
}

Status write_files(const fs::path& dir, const std::vector<report::ReportFile>& files) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return make_error("cannot create the folder: " + error.message()).in(dir.string());
    for (const report::ReportFile& f : files) {
        if (Status written = write_text(dir / f.name, f.content); !written) return written;
    }
    return Done{};
}

int run_suite(const std::string& command, const EvaluationSet& set, const Options& options,
              const std::string& out, const std::string& data_description) {
    report::PaperSuiteSettings suite;
    suite.splits = options.settings.splits;
    suite.seed = options.settings.seed;
    suite.calibration_fraction = options.settings.calibration_fraction;
    suite.fixed_threshold = options.settings.fixed_threshold;
    suite.data_description = data_description;
    std::unique_ptr<Progress> progress;
    auto files = report::paper_suite(set, suite, [&](std::size_t done, std::size_t total) {
        if (!progress) progress = std::make_unique<Progress>("experiments", total);
        progress->advance(std::to_string(done) + "/" + std::to_string(total));
    });
    progress.reset();
    if (!files) return fail(command, files.error().message);
    if (Status written = write_files(out, *files); !written) {
        return fail(command, written.error().message);
    }
    std::printf("paper suite: %zu files written to %s (start with README.md)\n", files->size(),
                out.c_str());
    return kSuccess;
}

CommandSpec spec() {
    CommandSpec spec{
        .name = "evaluate",
        .summary =
            "Evaluates thresholding methods over repeated random calibration/test splits "
            "of labelled cases (coverage, FNR, FPR, Dice, compactness, lesion detection), "
            "or runs the paper's experiments with --paper-suite.",
        .options = labelled_cases_options(),
        .positional = "",
        .example =
            "cls evaluate --probs probs --labels labels --epsilon 0.1 --alpha 0.1 "
            "--methods fixed,cls,crc --plots plots",
    };
    spec.add({
        {"--epsilon", "E", "FNR tolerance, in [0, 1)"},
        {"--alpha", "A", "risk level, in (0, 1)"},
        {"--splits", "R", "random splits (default 100)"},
        {"--cal-fraction", "F", "share of cases that calibrate (default 0.5)"},
        {"--seed", "S", "seed of the splits (default 1)"},
        {"--methods", "LIST", "of fixed,cls,crc,lesion-cls,pac,mondrian (default fixed,cls,crc)"},
        {"--delta", "D", "PAC's confidence (default 0.1)"},
        {"--mondrian", "RULE", "groups, e.g. predicted-voxels:500 or lesion-voxels:N,N"},
        {"--threshold", "T", "the fixed method's threshold (default 0.5)"},
        {"--empty-masks", "satisfied|exclude", "cases without lesion (default satisfied)"},
        {"--memory-limit", "GIB", "stop before the kept probabilities pass this (4)"},
        {"--json", "OUT", "the report as JSON"},
        {"--csv", "OUT", "the report as CSV"},
        {"--plots", "DIR", "SVG charts"},
        {"--paper-suite", "OUTDIR", "the paper's tables and charts instead"},
    });
    spec.add(lesion_options(true));
    spec.add(region_options(RegionInputKind::folders));
    spec.add({threads_option()});
    return spec;
}

}  // namespace

int run_evaluate(Words words) {
    const std::string command = "evaluate";
    auto args = Arguments::parse(words, spec());
    if (!args) return fail(command, args.error().message, kUsage);
    if (args->help_requested()) return print_help(*args);
    auto lesion = read_lesion_definition(*args);
    if (!lesion) return fail(command, lesion.error().message, kUsage);
    const bool suite = args->has("--paper-suite");
    auto options = read_options(*args, suite);
    if (!options) return fail(command, options.error().message, kUsage);
    if (Status one = check_scores_or_volumes(*args); !one) {
        return fail(command, one.error().message, kUsage);
    }
    const bool from_scores = args->has("--scores");
    // Scores were restricted when they were made (load_scored_set checks --roi against them).
    auto region = from_scores ? Result<RegionInputs>(RegionInputs{})
                              : read_region_inputs(*args, RegionInputKind::folders);
    if (!region) return fail(command, region.error().message, kUsage);
    auto source = args->text(from_scores ? "--scores" : "--probs");
    auto labels = from_scores ? Result<std::string>(std::string()) : args->text("--labels");
    if (!source) return fail(command, source.error().message, kUsage);
    if (!labels) return fail(command, labels.error().message, kUsage);

    auto set = from_scores ? load_scored_set(*args, *source, *options)
                           : load_set(*region, *source, *labels, *lesion, *options);
    if (!set) return fail(command, set.error().message);
    if (suite) {
        const std::string data =
            (from_scores ? "the case scores in `" : "the probability maps in `") + *source + "`";
        return run_suite(command, *set, *options, *args->text("--paper-suite"), data);
    }

    auto evaluation = Evaluation::start(*set, options->settings);
    if (!evaluation) return fail(command, evaluation.error().message);
    {
        Progress progress("splits", options->settings.splits);
        while (!evaluation->done()) {
            evaluation->run_split();
            progress.advance("split " + std::to_string(evaluation->splits_done()));
        }
    }
    const EvaluationReport& report = evaluation->report();
    std::fputs(report::to_text(report).c_str(), stdout);

    if (args->has("--json")) {
        if (Status w = write_text(*args->text("--json"), report::to_json(report)); !w) {
            return fail(command, w.error().message);
        }
    }
    if (args->has("--csv")) {
        if (Status w = write_text(*args->text("--csv"), report::to_csv(report)); !w) {
            return fail(command, w.error().message);
        }
    }
    if (args->has("--plots")) {
        if (Status w = write_files(*args->text("--plots"), report::evaluation_plots(report)); !w) {
            return fail(command, w.error().message);
        }
    }
    return kSuccess;
}

}  // namespace cls::cli

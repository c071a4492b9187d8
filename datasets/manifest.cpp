#include "datasets/manifest.h"

// Origins, pinned commits and hashes are those recorded in the mirror's SOURCES.md (see docs/DATASETS.md).
namespace hb::datasets {
namespace {
const char* kGh = "https://raw.githubusercontent.com/";
std::string gh(const std::string& repo_commit_path) { return kGh + repo_commit_path; }
const std::string kEvalchemy = "mlfoundations/evalchemy/6ed674159b37f740f2353a86f596f49f6ac13c19/eval/chat_benchmarks/";
const std::string kFastChat = "lm-sys/FastChat/0e6d3e4beaab66f4d3f93db72541a4abab8af28d/fastchat/llm_judge/data/";
const std::string kGsm = "openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/";
}  // namespace

const std::vector<ManifestEntry>& manifest() {
  static const std::vector<ManifestEntry> entries = {
      {"math500", "math500/test.jsonl", "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132", "MIT",
       gh("hkust-nlp/simpleRL-reason/cf1c7858bfc145a27aa733e75d930d34f0d318a6/examples/simplelr_math_eval/data/math500/test.jsonl"),
       false},
      {"gsm8k", "gsm8k/test.jsonl", "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", "MIT",
       gh(kGsm + "test.jsonl"), false},
      {"gsm8k", "gsm8k/train.jsonl", "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465", "MIT",
       gh(kGsm + "train.jsonl"), false},
      {"gsm8k", "gsm8k/example_model_solutions.jsonl",
       "4bc62db838f8418365d51c627bd66294cbdca9fb7f01519cb13f0dce8c51580b", "MIT",
       gh("openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/example_model_solutions.jsonl"),
       false},
      {"aime24", "aime24/test.jsonl", "af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac", "MIT",
       gh("QwenLM/Qwen2.5-Math/a45202bd16f1ec06f433442dc1152d0074773465/evaluation/data/aime24/test.jsonl"), false},
      {"aime24", "aime24/aime24.json", "2dfe4f134aee7989cd9978218ca914b3c3db4685ea06d841560ec1391ba0a409",
       "unstated (evalchemy)", gh(kEvalchemy + "AIME24/data/aime24.json"), false},
      {"aime25", "aime25/aime25.json", "3505b87e8597a1b96821eef78f426382b7bff86c6a4a4cf19b57b24b968adfdb",
       "unstated (evalchemy)", gh(kEvalchemy + "AIME25/data/aime25.json"), false},
      {"aime25", "aime25/test.jsonl", "5ee6e9fb9b8c0408c8e3591709b6927063abf73ed238c029167a7eff7376cca0", "MIT",
       gh("Zhuofeng-Li/math-evaluation-harness/a0448031ca940fa85ebc55a461a047874ea5ac5f/data/aime25/test.jsonl"), false},
      {"gpqa", "gpqa_diamond/gpqa_diamond.csv", "41d1213cd7a4998605a26c2798500652572007161b3a92817ba46b35befcd305",
       "CC-BY-4.0 (do not reveal examples publicly)",
       gh("openai/simple-evals/be11f462e3834c4571e4683b171101db8300944e/gpqa_diamond.csv"), true},
      {"mbpp", "mbpp/mbpp.jsonl", "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f", "CC-BY-4.0",
       gh(kEvalchemy + "MBPP/data/mbpp.jsonl"), false},
      {"mbpp", "mbpp/mbpp_test.jsonl", "e57e9c9999aa35128f4d0b6a486979c2c1dce4f4b8c0680bf92bc6f5f147779f", "CC-BY-4.0",
       gh(kEvalchemy + "MBPP/data/mbpp_test.jsonl"), false},
      {"mbpp", "mbpp/sanitized-mbpp.json", "8ac32b2799150228e2d745aed09c870b7e4444246d4727d1004576207ef40769",
       "CC-BY-4.0", gh("mrigankpawagi/PropertyEval/b2be813dcff867cc350c61b8d3ea57ec088ce1ac/sanitized-mbpp.json"), false},
      {"mt_bench", "mt_bench/question.jsonl", "119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7",
       "Apache-2.0", gh(kFastChat + "mt_bench/question.jsonl"), false},
      {"mt_bench", "mt_bench/reference_answer/gpt-4.jsonl",
       "f957a5bc977badb66885ec970e6cd08527845780313f0995764260e5777b9b3f", "Apache-2.0",
       gh(kFastChat + "mt_bench/reference_answer/gpt-4.jsonl"), false},
      {"mt_bench", "mt_bench/judge_prompts.jsonl", "fd283293406d024f44c174b094ef48031d0687a4682fd3a56b29b138f80281b6",
       "Apache-2.0", gh(kFastChat + "judge_prompts.jsonl"), false},
      {"mt_bench", "mt_bench/reference_answer/gpt-4o-mini-2024-07-18.jsonl",
       "988d01d59bafa99edaf0cf97d1eba0532e8d602373d3ae48bfcc87d37d7a8169", "Apache-2.0",
       gh(kEvalchemy + "MTBench/fastchat/llm_judge/data/mt_bench/reference_answer/gpt-4o-mini-2024-07-18.jsonl"), false},
  };
  return entries;
}

const ManifestEntry* find_entry(const std::string& file) {
  for (const auto& e : manifest())
    if (e.file == file) return &e;
  return nullptr;
}

}  // namespace hb::datasets

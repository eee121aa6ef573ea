# Everything installs from this repo's own files into .venv; a second `make install` is a no-op.
PY        ?= python3.11
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
# llama.cpp is built for the portable x86-64 AVX2 level: a native build hits AMX kernels that
# segfault on some of these machines, and AVX512 code dies with "illegal instruction" on
# the AMD EPYC ones (no AVX512). --no-cache-dir: never reuse a wheel built with other flags.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF

LLAMA_SERVER := $(BIN)/llama-server
LLAMA_SRC    := $(VENV)/llama-cpp-src

.PHONY: install models llama-server browser run test eval eval-jsquad bench clean

install: $(STAMP) models

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# torch first, pinned: the CPU wheel on this disk (an unpinned torch pulls a CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet --no-cache-dir 'llama-cpp-python[server]==0.3.36'
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

models: $(STAMP)
	$(BIN)/chatbot models all

# llama.cpp's own server, for CHATBOT_LLM_BACKEND=llama-server (parallel slots: several chats at once; the
# server in llama-cpp-python serves one request at a time). Built from the llama.cpp sources vendored in
# the same llama-cpp-python sdist, with the same CPU flags, statically linked; about 10 minutes on 2 cores.
llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): $(STAMP)
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)
	# the sdist only (its metadata step needs scikit-build-core; nothing is built by pip)
	$(BIN)/pip install --quiet scikit-build-core
	$(BIN)/pip download --quiet --no-deps --no-binary :all: --no-build-isolation -d $(LLAMA_SRC) 'llama-cpp-python==0.3.36'
	tar -xzf $(LLAMA_SRC)/llama_cpp_python-0.3.36.tar.gz -C $(LLAMA_SRC)
	cmake -S $(LLAMA_SRC)/llama_cpp_python-0.3.36/vendor/llama.cpp -B $(LLAMA_SRC)/build -DCMAKE_BUILD_TYPE=Release \
	  $(LLAMA_CMAKE_ARGS) -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
	  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF >/dev/null
	cmake --build $(LLAMA_SRC)/build --target llama-server -j 2 >/dev/null
	cp $(LLAMA_SRC)/build/bin/llama-server $@
	rm -rf $(LLAMA_SRC)

# app.py ingests CHATBOT_CORPUS_DIR at start (unchanged files cost nothing) and loads the model once.
run: install
	$(BIN)/python app.py

# Debian's Chromium for the Playwright browser tests (Playwright's own browser download cannot work
# offline), and a Japanese font so that screenshots show text instead of empty boxes.
browser:
	command -v chromium >/dev/null 2>&1 && fc-list | grep -qi ipagothic || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null; }

# --durations=25: the slowest tests, to see where CI's time goes (limits per test: pyproject.toml)
test: install llama-server browser
	$(BIN)/python -m pytest --durations=25

# Answer evaluation on the test split (eval/questions.jsonl) with the default model: eval/results/test/{latest.json,report.md,latest.png}; the dev split: python -m eval --split dev
eval: install
	$(BIN)/python -m eval

# JSQuAD: retrieval over all 4,442 questions; answer containment (pipeline and quote floor) on a seeded
# sample of 100, and correct refusals on 100 others asked with their own paragraph left out of the index
eval-jsquad: install
	$(BIN)/python -m eval jsquad --answers 100 --unanswerable 100

bench: install llama-server
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .chatbot

// The browser entry point: GLFW window on the page's canvas, ImGui with its GLFW and OpenGL3
// (WebGL2) backends, and one emscripten_set_main_loop calling App::frame.
#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>
#include <emscripten/html5.h>

#include <cstdio>

#include "app.hpp"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "web_platform.hpp"

namespace cls::web {

// JavaScript side of the file edge; defined in web/cls_bridge.js through Module hooks.
// The bodies are JavaScript, which the C++ formatter would break.
// clang-format off
EM_JS(void, js_open_file_picker, (), { Module.clsBridge.openFilePicker(); });
EM_JS(void, js_load_demo, (int scans), {
    Module.clsBridge.loadDemo(scans ? 'scans' : 'probabilities');
});
EM_JS(void, js_download, (const char* name, const std::uint8_t* bytes, int size, int gzip), {
    // Copy out of the heap now: it may grow (and move) before the download is assembled.
    const data = HEAPU8.slice(bytes, bytes + size);
    Module.clsBridge.download(UTF8ToString(name), data, Boolean(gzip));
});
EM_JS(void, js_save, (const char* key, const char* json), {
    Module.clsBridge.save(UTF8ToString(key), UTF8ToString(json));
});
// The rewritten model, if any, is copied out of the heap at once: it is valid only now.
EM_JS(void, js_start_model_session, (const char* file, const char* input, const char* output,
                                     int webgpu, const std::uint8_t* webgpu_model, int size), {
    Module.clsBridge.startModelSession(UTF8ToString(file), UTF8ToString(input),
                                       UTF8ToString(output), Boolean(webgpu),
                                       size > 0 ? HEAPU8.slice(webgpu_model, webgpu_model + size) : null);
});
// The input stays in the heap until the answer: the page copies it into a tensor at once.
EM_JS(void, js_run_network, (const float* input, int count, int channels, int depth, int height,
                             int width), {
    Module.clsBridge.runNetwork(input, count, [1, channels, depth, height, width]);
});
// clang-format on

ImTextureID WebPlatform::upload_texture(int slot, const app::SliceImage& image) {
    GLuint& texture = textures_[static_cast<std::size_t>(slot)];
    if (texture == 0) {
        glGenTextures(1, &texture);
        glBindTexture(GL_TEXTURE_2D, texture);
        // Nearest: one screen block per voxel, as radiologists expect when zooming in.
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    }
    glBindTexture(GL_TEXTURE_2D, texture);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, image.width, image.height, 0, GL_RGBA,
                 GL_UNSIGNED_BYTE, image.pixels.data());
    return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(texture));
}

void WebPlatform::open_file_picker() { js_open_file_picker(); }
void WebPlatform::load_demo(Demo demo) { js_load_demo(demo == Demo::scans ? 1 : 0); }
void WebPlatform::download(const std::string& file_name, const std::vector<std::uint8_t>& bytes,
                           bool gzip) {
    js_download(file_name.c_str(), bytes.data(), static_cast<int>(bytes.size()), gzip ? 1 : 0);
}
std::size_t WebPlatform::memory_available() const { return heap_available(); }
void WebPlatform::save(const std::string& key, const std::string& json) {
    js_save(key.c_str(), json.c_str());
}
void WebPlatform::start_model_session(const std::string& model_file,
                                      const inference::ModelManifest& manifest, bool webgpu,
                                      std::span<const std::uint8_t> webgpu_model) {
    js_start_model_session(model_file.c_str(), manifest.input_name.c_str(),
                           manifest.output_name.c_str(), webgpu ? 1 : 0, webgpu_model.data(),
                           static_cast<int>(webgpu_model.size()));
}
void WebPlatform::run_network(std::span<const float> input,
                              const std::array<std::int64_t, 5>& shape) {
    js_run_network(input.data(), static_cast<int>(input.size()), static_cast<int>(shape[1]),
                   static_cast<int>(shape[2]), static_cast<int>(shape[3]),
                   static_cast<int>(shape[4]));
}

}  // namespace cls::web

namespace {

GLFWwindow* g_window = nullptr;
cls::web::WebPlatform g_platform;

// Resizes the canvas through Emscripten's Browser, whose resize listeners keep GLFW's window
// size in step. (glfwSetWindowSize would ask for fullscreen when the size equals the screen's.)
// clang-format off
EM_JS(void, js_set_canvas_size, (int width, int height), { Browser.setCanvasSize(width, height); });
// clang-format on

// Follows the canvas's CSS size, which the page stretches to the window.
void fit_canvas_to_page() {
    double css_width = 0, css_height = 0;
    emscripten_get_element_css_size("#canvas", &css_width, &css_height);
    int width = 0, height = 0;
    glfwGetWindowSize(g_window, &width, &height);
    if (static_cast<int>(css_width) != width || static_cast<int>(css_height) != height) {
        js_set_canvas_size(static_cast<int>(css_width), static_cast<int>(css_height));
    }
}

// Milliseconds since the last input the page saw (pointer, wheel, key, resize, drop), on the
// page's own clock (emscripten_get_now() adds the time origin in a threaded build).
// clang-format off
EM_JS(void, js_watch_input, (), {
    Module.lastInputMs = performance.now();
    const touched = () => { Module.lastInputMs = performance.now(); };
    for (const type of ['pointerdown', 'pointermove', 'pointerup', 'wheel', 'keydown', 'keyup',
                        'resize', 'drop', 'dragover', 'focus']) {
        window.addEventListener(type, touched, { capture: true, passive: true });
    }
});
EM_JS(double, js_ms_since_input, (), { return performance.now() - Module.lastInputMs; });
// clang-format on

// A frame builds the whole UI and the browser rasterises it: a core's worth in a browser that
// renders in software, taken from the model's threads (a 48³ patch took 136 ms in the demo
// page against 71-78 ms in a page without the app). So while no one has touched the page for a
// second and nothing loads or validates, the UI is drawn every 250 ms; the session's work
// (loading, inference, validation, saving settings) still runs on every animation frame, and
// the next input draws at once.
bool draw_due() {
    static double last_drawn_ms = 0;
    const double now = emscripten_get_now();
    const cls::app::Session& session = cls::web::app().session();
    const bool lively = js_ms_since_input() < 1000 ||
                        session.loading().done < session.loading().total ||
                        session.validation().running();
    if (!lively && now - last_drawn_ms < 250) return false;
    last_drawn_ms = now;
    return true;
}

void frame() {
    if (!draw_due()) {
        cls::web::app().step();
        return;
    }
    fit_canvas_to_page();
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    cls::web::app().frame();
    ImGui::Render();
    int width = 0, height = 0;
    glfwGetFramebufferSize(g_window, &width, &height);
    glViewport(0, 0, width, height);
    glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace

namespace cls::web {
app::App& app() {
    static app::App instance(g_platform);
    return instance;
}
}  // namespace cls::web

int main() {
    if (!glfwInit()) {
        std::fprintf(stderr, "GLFW could not start\n");
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    g_window = glfwCreateWindow(1280, 800, "CLS Studio", nullptr, nullptr);
    if (!g_window) {
        std::fprintf(stderr, "WebGL2 is not available in this browser\n");
        return 1;
    }
    glfwMakeContextCurrent(g_window);
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no file system; nothing persists behind the user's back
    // Emscripten's GLFW cannot change cursor shapes; asking makes it toggle pointer lock.
    io.ConfigFlags |= ImGuiConfigFlags_NoMouseCursorChange;
    ImGui::StyleColorsDark();
    ImGui_ImplGlfw_InitForOpenGL(g_window, true);
    ImGui_ImplOpenGL3_Init("#version 300 es");
    js_watch_input();
    emscripten_set_main_loop(frame, 0, true);
    return 0;
}

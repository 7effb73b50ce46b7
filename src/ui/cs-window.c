/* CsWindow: hosts the views over its session and turns every file it is given into either a
 * model (run directory, run.json, .onnx, model.json) or an input image. */
#include "config.h"

#include <glib/gi18n.h>

#include "cs-application.h"
#include "cs-frame-timings.h"
#include "cs-model-settings.h"
#include "cs-preferences-window.h"
#include "cs-window-private.h"

typedef struct
{
  char *path;                  /* NULL: the demo run, when no model has opened by then */
  gboolean image;
} PendingOpen;

G_DEFINE_FINAL_TYPE (CsWindow, cs_window, ADW_TYPE_APPLICATION_WINDOW)

void
cs_window_toast (CsWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  self->n_toasts++;
}

guint
cs_window_get_n_toasts (CsWindow *self)
{
  return self->n_toasts;
}

CsSession *
cs_window_get_session (CsWindow *self)
{
  return self->session;
}

static GSettings *
settings (CsWindow *self)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  return CS_IS_APPLICATION (app) ? cs_application_get_settings (CS_APPLICATION (app)) : NULL;
}

static gboolean
is_image_name (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")
         || g_str_has_suffix (lower, ".jpeg");
}

static void
update_title (CsWindow *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  const cs_run *run;
  g_autofree char *base = NULL;

  if (set == NULL)
    {
      adw_window_title_set_title (self->window_title, "Convscope");
      adw_window_title_set_subtitle (self->window_title, _("Open a run, a model or an image"));
      return;
    }
  run = cs_model_set_get_run (set);
  base = g_path_get_basename (cs_model_set_get_path (set));
  adw_window_title_set_title (self->window_title, run != NULL && run->name != NULL ? run->name : base);
  {
    g_autofree char *sub = g_strdup_printf (_("%s · %d classes · %s"),
                                            run != NULL ? _("training run") : _("model"),
                                            cs_model_set_get_base (set)->n_classes,
                                            cs_session_get_image_name (self->session) != NULL
                                            ? cs_session_get_image_name (self->session) : "");
    adw_window_title_set_subtitle (self->window_title, sub);
  }
}

static void
update_recent_menu (CsWindow *self)
{
  GSettings *s = settings (self);
  g_auto (GStrv) recent = NULL;

  g_menu_remove_all (self->recent_menu);
  if (s == NULL)
    return;
  recent = g_settings_get_strv (s, "recent-runs");
  for (guint i = 0; recent[i] != NULL; i++)
    {
      g_autoptr (GMenuItem) item = NULL;
      g_autofree char *label = g_path_get_basename (recent[i]);
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", recent[i]);
      g_menu_append_item (self->recent_menu, item);
    }
}

static void
pending_open_free (PendingOpen *p)
{
  g_free (p->path);
  g_free (p);
}

static void process_pending (CsWindow *self);

/* The loading state: a card over the views naming the file, with the worker's progress bar
 * and cancel button in the header; the views stay usable on what was open before. */
static void
set_loading (CsWindow *self, const char *path)
{
  if (path != NULL)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *text = g_strdup_printf (_("Opening “%s”…"), base);
      gtk_label_set_text (self->loading_label, text);
    }
  gtk_widget_set_visible (self->loading_card, path != NULL);
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CsWindow) self = user_data;
  PendingOpen *p = g_queue_pop_head (&self->pending);
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_path_get_basename (p->path);
  GApplication *app;

  self->opening = FALSE;
  if (!cs_session_open_finish (CS_SESSION (source), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *msg = p->image
            ? g_strdup_printf (_("Could not open the image “%s”: %s"), base, error->message)
            : g_strdup_printf (_("Could not open “%s”: %s"), base, error->message);
          cs_window_toast (self, msg);
        }
    }
  else if (!p->image)
    {
      app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
      if (CS_IS_APPLICATION (app))
        cs_application_add_recent (CS_APPLICATION (app), p->path);
      update_recent_menu (self);
    }
  update_title (self);
  pending_open_free (p);
  process_pending (self);
}

/* Starts the next pending open unless one is running; hides the card when none is left. */
static void
process_pending (CsWindow *self)
{
  PendingOpen *p;

  while (!self->opening && (p = g_queue_peek_head (&self->pending)) != NULL)
    {
      if (p->path == NULL && cs_session_get_model_set (self->session) == NULL)
        {
          g_autofree char *demo = cs_application_find_demo ();
          if (demo == NULL)
            cs_window_toast (self, _("The demo run is not installed: open a run, a model or an image"));
          p->path = g_steal_pointer (&demo);
        }
      if (p->path == NULL)
        {
          pending_open_free (g_queue_pop_head (&self->pending));
          continue;
        }
      if (p->image && cs_session_get_model_set (self->session) == NULL)
        {
          g_autofree char *base = g_path_get_basename (p->path);
          g_autofree char *msg = g_strdup_printf (_("Open a model before the image “%s”"), base);
          cs_window_toast (self, msg);
          pending_open_free (g_queue_pop_head (&self->pending));
          continue;
        }
      self->opening = TRUE;
      set_loading (self, p->image ? NULL : p->path);
      cs_session_open_async (self->session, p->path, p->image, -1, open_done, g_object_ref (self));
    }
  if (!self->opening)
    set_loading (self, NULL);
}

static void
queue_open (CsWindow *self, const char *path, gboolean image)
{
  PendingOpen *p = g_new0 (PendingOpen, 1);

  p->path = g_strdup (path);
  p->image = image;
  g_queue_push_tail (&self->pending, p);
  process_pending (self);
}

gboolean
cs_window_get_loading (CsWindow *self)
{
  return self->opening || !g_queue_is_empty (&self->pending);
}

guint
cs_window_open_files (CsWindow *self, GFile **files, guint n_files)
{
  guint queued = 0;

  /* Models first, so that images given with them are explained by them. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n_files; i++)
      {
        g_autofree char *path = g_file_get_path (files[i]);
        gboolean image;

        if (path == NULL)
          {
            if (pass == 0)
              cs_window_toast (self, _("Only local files can be opened"));
            continue;
          }
        image = is_image_name (path) && !g_file_test (path, G_FILE_TEST_IS_DIR);
        if ((pass == 0 && !image) || (pass == 1 && image))
          {
            queue_open (self, path, image);
            queued++;
          }
      }
  return queued;
}

void
cs_window_open_demo (CsWindow *self)
{
  g_autofree char *demo = cs_application_find_demo ();

  if (demo == NULL)
    {
      cs_window_toast (self, _("The demo run is not installed: open a run, a model or an image"));
      return;
    }
  queue_open (self, demo, FALSE);
}

void
cs_window_open_demo_if_empty (CsWindow *self)
{
  queue_open (self, NULL, FALSE);
}

/* Actions. */

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, CsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      guint n = g_list_model_get_n_items (files);
      g_autoptr (GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));
      cs_window_open_files (self, (GFile **) array->pdata, array->len);
    }
  g_clear_object (&self->chooser);
  if (self->export_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->export_chooser));
  g_clear_object (&self->export_chooser);
  g_clear_pointer (&self->export_what, g_free);
}

static void
open_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) models = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) images = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  /* A run is a directory: the chooser opens files, so a run is opened by its run.json. */
  self->chooser = gtk_file_chooser_native_new (_("Open a Run, Model or Image"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"),
                                               _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), TRUE);
  gtk_file_filter_set_name (all, _("Runs, models and images"));
  gtk_file_filter_add_pattern (all, "run.json");
  gtk_file_filter_add_pattern (all, "*.onnx");
  gtk_file_filter_add_pattern (all, "*.json");
  gtk_file_filter_add_mime_type (all, "image/png");
  gtk_file_filter_add_mime_type (all, "image/jpeg");
  gtk_file_filter_set_name (models, _("Runs and models (run.json, .onnx, model.json)"));
  gtk_file_filter_add_pattern (models, "*.json");
  gtk_file_filter_add_pattern (models, "*.onnx");
  gtk_file_filter_set_name (images, _("Images (PNG, JPEG)"));
  gtk_file_filter_add_mime_type (images, "image/png");
  gtk_file_filter_add_mime_type (images, "image/jpeg");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), models);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), images);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
open_demo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_window_open_demo (CS_WINDOW (widget));
}

static void
open_recent_action (GtkWidget *widget, const char *name, GVariant *param)
{
  queue_open (CS_WINDOW (widget), g_variant_get_string (param, NULL), FALSE);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);

  if (cs_worker_get_busy (cs_session_get_worker (self->session)))
    {
      /* Files queued behind the one opening are dropped with it. */
      while (g_queue_get_length (&self->pending) > (self->opening ? 1u : 0u))
        pending_open_free (g_queue_pop_tail (&self->pending));
      cs_worker_cancel (cs_session_get_worker (self->session), NULL);
      cs_window_toast (self, _("Cancelled"));
    }
}

static void
epoch_step_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_training_view_step (CS_WINDOW (widget)->training_view, g_variant_get_int32 (param));
}

static void
play_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_training_view_toggle_play (CS_WINDOW (widget)->training_view);
}

static void
method_step_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsSession *session = CS_WINDOW (widget)->session;
  int m = cs_session_get_method (session) + g_variant_get_int32 (param);

  cs_session_set_method (session, (m % CS_METHOD_COUNT + CS_METHOD_COUNT) % CS_METHOD_COUNT);
}

static void
compare_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsSaliencyView *view = CS_WINDOW (widget)->saliency_view;

  cs_saliency_view_show_comparison (view, !cs_saliency_view_get_comparison_shown (view));
}

/* The layer graph's search box: centre and select the first layer whose name matches. */
static void
layer_search_cb (GtkSearchEntry *entry, CsWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (text[0] != '\0' && cs_graph_view_find (self->graph_view, text) < 0)
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
}

/* The model's input preprocessing; Apply saves it and opens the model again with it. */
static void
settings_applied_cb (CsModelSettingsWindow *dialog, CsWindow *self)
{
  g_autofree char *path = g_strdup (g_object_get_data (G_OBJECT (dialog), "model-path"));
  queue_open (self, path, FALSE);
}

CsModelSettingsWindow *
cs_window_show_model_settings (CsWindow *self)
{
  CsModelSet *set = cs_session_get_model_set (self->session);
  CsModelSettingsWindow *dialog;

  if (set == NULL)
    return NULL;
  dialog = cs_model_settings_window_new (GTK_WINDOW (self), cs_model_set_get_path (set),
                                  cs_model_set_get_base (set), cs_model_set_get_run (set) != NULL);
  g_object_set_data_full (G_OBJECT (dialog), "model-path", g_strdup (cs_model_set_get_path (set)), g_free);
  g_signal_connect_object (dialog, "applied", G_CALLBACK (settings_applied_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
model_settings_action (GtkWidget *widget, const char *name, GVariant *param)
{
  cs_window_show_model_settings (CS_WINDOW (widget));
}

static void
preferences_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  GSettings *s = settings (self);

  if (s == NULL)
    {
      cs_window_toast (self, _("Preferences need the installed settings schema"));
      return;
    }
  gtk_window_present (GTK_WINDOW (cs_preferences_window_new (GTK_WINDOW (self), s)));
}

/* Drag and drop. */

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, CsWindow *self)
{
  GSList *list;
  g_autoptr (GPtrArray) files = g_ptr_array_new ();

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  list = g_value_get_boxed (value);
  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  return cs_window_open_files (self, (GFile **) files->pdata, files->len) > 0;
}

/* Progress of long jobs. */

static void
worker_progress_cb (CsWorker *worker, GParamSpec *pspec, CsWindow *self)
{
  gboolean busy = cs_worker_get_busy (worker);

  gtk_widget_set_visible (GTK_WIDGET (self->progress), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), busy);
  gtk_progress_bar_set_fraction (self->progress, cs_worker_get_fraction (worker));
}

/* Selecting a unit (in the gallery, or a ranked filter) brings its inspector up. */
static void
unit_changed_cb (CsSession *session, GParamSpec *pspec, CsWindow *self)
{
  if (cs_session_get_unit (session) >= 0)
    adw_view_stack_set_visible_child_name (self->bottom_stack, "unit");
}

static void
image_changed_cb (CsSession *session, GParamSpec *pspec, CsWindow *self)
{
  update_title (self);
}

static void
save_size (CsWindow *self)
{
  GSettings *s = settings (self);
  int w, h;

  if (s == NULL)
    return;
  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_settings_set_int (s, "window-width", w);
  g_settings_set_int (s, "window-height", h);
  g_settings_set_boolean (s, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
}

static gboolean
cs_window_close_request (GtkWindow *window)
{
  save_size (CS_WINDOW (window));
  return GTK_WINDOW_CLASS (cs_window_parent_class)->close_request (window);
}

/* Runs once the window has its application: GtkWindow:application is not a construct
 * property, so constructed() is too early to reach the settings. */
static void
apply_settings (CsWindow *self)
{
  GSettings *s = settings (self);

  if (s != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (s, "window-width"),
                                   g_settings_get_int (s, "window-height"));
      if (g_settings_get_boolean (s, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      g_settings_bind (s, "colormap", self->saliency_view, "colormap", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (s, "overlay-opacity", self->saliency_view, "opacity", G_SETTINGS_BIND_DEFAULT);
      cs_settings_bind_session (s, G_OBJECT (self->session));
    }
  update_recent_menu (self);
}

/* Built here rather than in the template: it overlays whatever the template lays out. */
static void
add_loading_card (CsWindow *self)
{
  g_autoptr (GtkWidget) content = g_object_ref (adw_toast_overlay_get_child (self->toast_overlay));
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));

  adw_toast_overlay_set_child (self->toast_overlay, NULL);
  gtk_overlay_set_child (GTK_OVERLAY (overlay), content);
  gtk_spinner_start (GTK_SPINNER (spinner));
  self->loading_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->loading_label), "title-4");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (cancel), "win.cancel");
  gtk_widget_add_css_class (cancel, "pill");
  gtk_box_append (GTK_BOX (box), spinner);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->loading_label));
  gtk_box_append (GTK_BOX (box), cancel);
  g_object_set (box, "margin-start", 24, "margin-end", 24, "margin-top", 18, "margin-bottom", 18, NULL);
  self->loading_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->loading_card, "card");
  gtk_box_append (GTK_BOX (self->loading_card), box);
  gtk_widget_set_halign (self->loading_card, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (self->loading_card, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->loading_card, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), self->loading_card);
  adw_toast_overlay_set_child (self->toast_overlay, overlay);
}

static void
cs_window_dispose (GObject *object)
{
  CsWindow *self = CS_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (cs_session_get_worker (self->session), self);
      cs_worker_cancel (cs_session_get_worker (self->session), NULL);
    }
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_open_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), CS_TYPE_WINDOW);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (cs_window_parent_class)->dispose (object);
}

static void
cs_window_class_init (CsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = cs_window_dispose;
  window_class->close_request = cs_window_close_request;

  g_type_ensure (CS_TYPE_GRAPH_VIEW);
  g_type_ensure (CS_TYPE_SALIENCY_VIEW);
  g_type_ensure (CS_TYPE_FILTER_GALLERY);
  g_type_ensure (CS_TYPE_TRAINING_VIEW);
  g_type_ensure (CS_TYPE_IMAGE_STRIP);
  g_type_ensure (CS_TYPE_UNIT_INSPECTOR);
  g_type_ensure (CS_TYPE_DATA_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/cs-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, progress);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, graph_view);
  gtk_widget_class_bind_template_callback (widget_class, layer_search_cb);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, saliency_view);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, filter_gallery);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, training_view);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, image_strip);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, bottom_stack);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, unit_inspector);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, data_view);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, recent_menu);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-demo", NULL, open_demo_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.epoch-step", "i", epoch_step_action);
  gtk_widget_class_install_action (widget_class, "win.play", NULL, play_action);
  gtk_widget_class_install_action (widget_class, "win.method-step", "i", method_step_action);
  gtk_widget_class_install_action (widget_class, "win.compare", NULL, compare_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.model-settings", NULL, model_settings_action);
  gtk_widget_class_install_action (widget_class, "win.export", "s", cs_window_export_action);
}

static void
cs_window_init (CsWindow *self)
{
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  add_loading_card (self);
  self->session = cs_session_new ();
  cs_graph_view_set_session (self->graph_view, self->session);
  cs_saliency_view_set_session (self->saliency_view, self->session);
  cs_filter_gallery_set_session (self->filter_gallery, self->session);
  cs_training_view_set_session (self->training_view, self->session);
  cs_image_strip_set_session (self->image_strip, self->session);
  cs_unit_inspector_set_session (self->unit_inspector, self->session);
  cs_data_view_set_session (self->data_view, self->session);
  g_signal_connect_object (self->session, "notify::unit", G_CALLBACK (unit_changed_cb), self, 0);

  g_signal_connect_object (cs_session_get_worker (self->session), "notify::fraction",
                           G_CALLBACK (worker_progress_cb), self, 0);
  g_signal_connect_object (cs_session_get_worker (self->session), "notify::busy",
                           G_CALLBACK (worker_progress_cb), self, 0);
  g_signal_connect_object (self->session, "notify::image", G_CALLBACK (image_changed_cb), self, 0);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  cs_frame_timings_attach (GTK_WIDGET (self));
  update_title (self);
}

CsWindow *
cs_window_new (GtkApplication *app)
{
  CsWindow *self = g_object_new (CS_TYPE_WINDOW, "application", app, NULL);

  apply_settings (self);
  return self;
}

GtkWidget *
cs_window_get_saliency_view (CsWindow *self)
{
  return GTK_WIDGET (self->saliency_view);
}

GtkWidget *
cs_window_get_training_view (CsWindow *self)
{
  return GTK_WIDGET (self->training_view);
}
